# Audit logs in a Cloud Logging bucket of their own, kept for years and lockable: Cloud Audit Logs
# of the project (who changed IAM, keys, buckets, functions; who read secrets and used keys) and
# the functions' lifecycle and security events (functions/src/logging.ts), routed by one sink.

resource "google_logging_project_bucket_config" "audit" {
  project        = var.project_id
  location       = var.location
  bucket_id      = "provenant-audit"
  description    = "Provenant audit logs: Cloud Audit Logs and the functions' lifecycle and security events."
  retention_days = var.retention_days
  # Once locked, neither the bucket nor its retention can be removed or shortened. Irreversible.
  locked = var.locked
}

resource "google_logging_project_sink" "audit" {
  project     = var.project_id
  name        = "provenant-audit"
  destination = "logging.googleapis.com/${google_logging_project_bucket_config.audit.id}"
  # A sink into a log bucket of its own project needs no grant to its writer identity.
  unique_writer_identity = true

  filter = join(" OR ", [
    "logName:\"cloudaudit.googleapis.com\"",
    "(resource.type=\"cloud_run_revision\" AND jsonPayload.event=(${join(" OR ", [for e in local.audit_events : "\"${e}\""])}))",
  ])
}

locals {
  # Named events of functions/src/logging.ts that an auditor asks about (a test checks each
  # exists): tenant lifecycle, keys, erasure, webhooks, denials, sealing.
  audit_events = [
    "tenant_onboarded",
    "tenant_offboarded",
    "extraction_erased",
    "kek_rotated",
    "kek_rotation_failed",
    "cmek_registered",
    "cmek_refused",
    "webhook_created",
    "webhook_deleted",
    "webhook_url_refused",
    "auth_denied",
    "evidence_sealed",
    "seal_failed",
    "config_invalid",
  ]
}

# Data Access audit logs (off by default) for the services whose reads matter to an auditor:
# every use of a key and every read of a secret.
resource "google_project_iam_audit_config" "kms" {
  project = var.project_id
  service = "cloudkms.googleapis.com"
  audit_log_config {
    log_type = "ADMIN_READ"
  }
  audit_log_config {
    log_type = "DATA_READ"
  }
  audit_log_config {
    log_type = "DATA_WRITE"
  }
}

resource "google_project_iam_audit_config" "secret_manager" {
  project = var.project_id
  service = "secretmanager.googleapis.com"
  audit_log_config {
    log_type = "ADMIN_READ"
  }
  audit_log_config {
    log_type = "DATA_READ"
  }
}
