# DOCUMENTS_BUCKET: customers' originals and the models' raw responses, each sealed by the code
# under its own data key (crypto/sealed-object.ts) and stored create-only. Erasure deletes the
# data keys (crypto-shredding), then the objects.
resource "google_storage_bucket" "documents" {
  project                     = var.project_id
  name                        = "${var.project_id}-documents"
  location                    = var.location
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  encryption {
    # CMEK on top of the code's envelope encryption: revoking the key makes the bucket unreadable.
    default_kms_key_name = var.documents_kms_key
  }

  # Erased objects are already unreadable (their keys are gone); soft delete keeps an operator's
  # mistaken bulk delete recoverable for a week.
  soft_delete_policy {
    retention_duration_seconds = 604800
  }

  # Retention: nothing is kept longer than the documents retention period.
  lifecycle_rule {
    condition {
      age = var.documents_retention_days
    }
    action {
      type = "Delete"
    }
  }

  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  # modules/platform makes this module wait for modules/kms, whose grant lets Cloud Storage
  # use the key: a bucket created before the grant cannot encrypt.
}
