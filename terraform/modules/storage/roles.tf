# What the sealer (and offboarding, which seals its certificate) needs on the audit bucket: create
# objects with a Locked retention, read them back to resume an interrupted export. No delete, no
# retention override: the predefined objectAdmin/objectUser roles carry both.
resource "google_project_iam_custom_role" "audit_exporter" {
  project     = var.project_id
  role_id     = "provenantAuditExporter"
  title       = "Provenant evidence exporter"
  description = "Create and read sealed evidence exports and set their retention; never delete."
  permissions = [
    "storage.objects.create",
    "storage.objects.get",
    "storage.objects.list",
    "storage.objects.setRetention",
    "storage.objects.update",
  ]
}
