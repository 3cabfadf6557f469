# The repository's firestore.rules, released to this database. The rules are what stand between a
# person's ID token and tenant data (the server SDKs bypass them), so they ship with every apply.
resource "google_firebaserules_ruleset" "firestore" {
  project = var.project_id

  source {
    files {
      name    = "firestore.rules"
      content = file(var.rules_file)
    }
  }

  lifecycle {
    # A release always points at a ruleset: the new one exists before the old one goes.
    create_before_destroy = true
  }
}

resource "google_firebaserules_release" "firestore" {
  project = var.project_id
  # The default database's release is `cloud.firestore`; a named database's `cloud.firestore/NAME`.
  name         = var.database_id == "(default)" ? "cloud.firestore" : "cloud.firestore/${var.database_id}"
  ruleset_name = "projects/${var.project_id}/rulesets/${google_firebaserules_ruleset.firestore.name}"
  depends_on   = [google_firestore_database.this]
}
