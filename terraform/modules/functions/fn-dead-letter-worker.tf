# deadLetterWorker: consumes extraction-requests-dlq and ends each poison message's extraction
# as `failed` (extraction/dead-letter.ts). Internal ingress; its push account is its only invoker.

resource "google_service_account" "dead_letter_worker" {
  project      = var.project_id
  account_id   = "provenant-dead-letter"
  display_name = "Provenant deadLetterWorker"
  description  = "Runs the deadLetterWorker function."
}

resource "google_cloudfunctions2_function" "dead_letter_worker" {
  project     = var.project_id
  location    = var.region
  name        = "dead-letter-worker"
  description = "Marks dead-lettered extractions failed, pushed from extraction-requests-dlq."

  build_config {
    runtime           = local.runtime
    entry_point       = "deadLetterWorker"
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
    service_account_email            = google_service_account.dead_letter_worker.email
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 60
    max_instance_request_concurrency = 10
    min_instance_count               = local.instances.dead_letter_worker.min
    max_instance_count               = local.instances.dead_letter_worker.max
    all_traffic_on_latest_revision   = true

    # This function uses no secret: each required one gets the fail-closed placeholder.
    environment_variables = merge(local.environment, {
      API_KEY_PEPPER    = local.not_provisioned
      OPENAI_API_KEY    = local.not_provisioned
      ANTHROPIC_API_KEY = local.not_provisioned
    })
  }

  depends_on = [google_project_iam_member.builder_logs, google_artifact_registry_repository_iam_member.builder_images, google_storage_bucket_iam_member.builder_sources]
}

# Trigger: extraction-requests-dlq → push (OIDC) → dead-letter-worker; what it cannot record ends
# on extraction-requests-dlq-failed (kept 31 days, alerted on).
module "dead_letter_worker_trigger" {
  source                = "../push-trigger"
  project_id            = var.project_id
  region                = var.region
  function_name         = google_cloudfunctions2_function.dead_letter_worker.name
  function_uri          = google_cloudfunctions2_function.dead_letter_worker.service_config[0].uri
  push_account_id       = "push-dead-letter"
  subscription_name     = "extraction-requests-dlq-worker"
  topic_name            = "extraction-requests-dlq"
  topic_id              = var.topics["extraction-requests-dlq"]
  dead_letter_topic_id  = var.topics["extraction-requests-dlq-failed"]
  max_delivery_attempts = 10
  ack_deadline_seconds  = 60
  minimum_backoff       = "10s"
  pubsub_service_agent  = local.pubsub_service_agent
}

# Reason: the dead-letter worker marks the extraction failed with its evidence; platform database.
resource "google_project_iam_member" "dead_letter_worker_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.member.dead_letter_worker
  condition {
    title       = "platform-database"
    description = "Only the platform's Firestore database."
    expression  = local.platform_database_condition
  }
}

# Reason: the dead-letter worker announces the failure for webhooks; this topic only.
resource "google_pubsub_topic_iam_member" "dead_letter_worker_notifications" {
  project = var.project_id
  topic   = var.topics["notifications"]
  role    = "roles/pubsub.publisher"
  member  = local.member.dead_letter_worker
}
