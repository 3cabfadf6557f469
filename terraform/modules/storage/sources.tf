# The functions' source archives (terraform/scripts/package-functions.sh builds them). Read by the
# functions' build account only.
resource "google_storage_bucket" "sources" {
  project                     = var.project_id
  name                        = "${var.project_id}-function-sources"
  location                    = var.location
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  # Each deploy uploads a new archive (its name carries its hash); old ones serve no one.
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
}
