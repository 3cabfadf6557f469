# retention: the scheduled content retention pass (lifecycle/retention.ts runRetention, what
# `npx provenant retention run` runs): per tenant, the extractions submitted before its content
# retention are erased through the same code path as DELETE /v1/extractions/{id} (data keys
# crypto-shredded with `erasure` evidence, reason `retention`; then the ciphertexts deleted).
# The pass is bounded per tenant and resumes from a cursor on the tenant's profile, so a
# redelivered or repeated trigger continues where the last one stopped; erasure is idempotent.

resource "google_service_account" "retention" {
  project      = var.project_id
  account_id   = "provenant-retention"
  display_name = "Provenant retention"
  description  = "Runs the retention function: erasure of content past its retention."
}

resource "google_pubsub_topic" "retention_requests" {
  project = var.project_id
  name    = "retention-requests"
  labels  = { role = "work" }
}

resource "google_pubsub_topic" "retention_requests_dlq" {
  project                    = var.project_id
  name                       = "retention-requests-dlq"
  labels                     = { role = "dead-letter" }
  message_retention_duration = "2678400s"
}

resource "google_cloudfunctions2_function" "retention" {
  project     = var.project_id
  location    = var.region
  name        = "retention"
  description = "Scheduled content retention, pushed from retention-requests."

  build_config {
    runtime           = local.runtime
    entry_point       = "retention"
    docker_repository = local.build.docker_repository
    service_account   = local.build.service_account
    source {
      storage_source {
        bucket = local.build.source_bucket
        object = local.build.source_object
      }
    }
  }

  service_config {
    service_account_email            = google_service_account.retention.email
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 540
    max_instance_request_concurrency = 1
    min_instance_count               = 0
    max_instance_count               = 1
    all_traffic_on_latest_revision   = true

    environment_variables = merge(local.environment, {
      API_KEY_PEPPER    = local.not_provisioned
      OPENAI_API_KEY    = local.not_provisioned
      ANTHROPIC_API_KEY = local.not_provisioned
    })
  }

  depends_on = [google_project_iam_member.builder_logs, google_artifact_registry_repository_iam_member.builder_images, google_storage_bucket_iam_member.builder_sources]
}

# Trigger, part one: Cloud Scheduler publishes one message per pass.
resource "google_cloud_scheduler_job" "retention" {
  project     = var.project_id
  region      = var.region
  name        = "provenant-retention"
  description = "Erase every tenant's content that is past its retention."
  schedule    = var.retention_schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count = 1
  }

  pubsub_target {
    topic_name = google_pubsub_topic.retention_requests.id
    data       = base64encode(jsonencode({ trigger = "cloud-scheduler" }))
  }
}

# Trigger, part two: retention-requests → push (OIDC) → retention. A pass resumes from its
# cursors and erasure is idempotent, so redeliveries converge.
module "retention_trigger" {
  source                = "../push-trigger"
  project_id            = var.project_id
  region                = var.region
  function_name         = google_cloudfunctions2_function.retention.name
  function_uri          = google_cloudfunctions2_function.retention.service_config[0].uri
  push_account_id       = "push-retention"
  subscription_name     = "retention-requests-retention"
  topic_name            = "retention-requests"
  topic_id              = google_pubsub_topic.retention_requests.id
  dead_letter_topic_id  = google_pubsub_topic.retention_requests_dlq.id
  max_delivery_attempts = 5
  ack_deadline_seconds  = 540
  minimum_backoff       = "60s"
  pubsub_service_agent  = local.pubsub_service_agent
}

# Reason: retention reads tenant profiles and extractions, deletes data keys, records erasure
# evidence and its cursors; platform database (dedicated tenants' databases are granted by
# modules/enterprise-tenant through the service_accounts output).
resource "google_project_iam_member" "retention_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.retention.email}"
  condition {
    title       = "platform-database"
    description = "Only the platform's Firestore database."
    expression  = local.platform_database_condition
  }
}

# Reason: retention deletes the erased extractions' ciphertexts; this bucket only. It needs no
# KMS role: crypto-shredding deletes the wrapped data keys, it never unwraps one.
resource "google_storage_bucket_iam_member" "retention_documents" {
  bucket = var.documents_bucket
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.retention.email}"
}
