# sealer: one pass over every tenant per `seal-requests` message (ledger/sealer.ts): appends new
# evidence to each tenant's log, signs the tree head with the sealing key, exports to the audit
# bucket. Cloud Scheduler publishes the message; internal ingress; its push account is its only
# invoker.

resource "google_service_account" "sealer" {
  project      = var.project_id
  account_id   = "provenant-sealer"
  display_name = "Provenant sealer"
  description  = "Runs the sealer function: the only account that writes seals and exports."
}

resource "google_cloudfunctions2_function" "sealer" {
  project     = var.project_id
  location    = var.region
  name        = "sealer"
  description = "Seals and exports evidence, pushed from seal-requests on a schedule."

  build_config {
    runtime           = local.runtime
    entry_point       = "sealer"
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
    service_account_email = google_service_account.sealer.email
    ingress_settings      = "ALLOW_INTERNAL_ONLY"
    available_memory      = "1Gi"
    available_cpu         = "1"
    timeout_seconds       = 540
    # One pass at a time: a pass resumes any interrupted seal, and two would only contend.
    max_instance_request_concurrency = 1
    min_instance_count               = local.instances.sealer.min
    max_instance_count               = local.instances.sealer.max
    all_traffic_on_latest_revision   = true

    environment_variables = merge(local.environment, {
      SEAL_SAFETY_SECONDS      = tostring(var.seal_safety_seconds)
      STUCK_EXTRACTION_SECONDS = tostring(var.stuck_extraction_seconds)
      API_KEY_PEPPER           = local.not_provisioned
      OPENAI_API_KEY           = local.not_provisioned
      ANTHROPIC_API_KEY        = local.not_provisioned
    })
  }

  depends_on = [google_project_iam_member.builder_logs, google_artifact_registry_repository_iam_member.builder_images, google_storage_bucket_iam_member.builder_sources]
}

# Trigger, part one: Cloud Scheduler publishes one message per pass to seal-requests (as its own
# service agent, which may publish in the project).
resource "google_cloud_scheduler_job" "seal" {
  project     = var.project_id
  region      = var.region
  name        = "provenant-seal"
  description = "One seal pass over every tenant."
  schedule    = var.seal_schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count = 1
  }

  pubsub_target {
    topic_name = var.topics["seal-requests"]
    data       = base64encode(jsonencode({ trigger = "cloud-scheduler" }))
  }
}

# Trigger, part two: seal-requests → push (OIDC) → sealer; passes that keep failing end on
# seal-requests-dlq (and the seal-failure and seal-lag alerts fire long before).
module "sealer_trigger" {
  source                = "../push-trigger"
  project_id            = var.project_id
  region                = var.region
  function_name         = google_cloudfunctions2_function.sealer.name
  function_uri          = google_cloudfunctions2_function.sealer.service_config[0].uri
  push_account_id       = "push-sealer"
  subscription_name     = "seal-requests-sealer"
  topic_name            = "seal-requests"
  topic_id              = var.topics["seal-requests"]
  dead_letter_topic_id  = var.topics["seal-requests-dlq"]
  max_delivery_attempts = 5
  ack_deadline_seconds  = 540
  minimum_backoff       = "30s"
  pubsub_service_agent  = local.pubsub_service_agent
}

# Reason: the sealer reads evidence and writes seals and intents; platform database only.
resource "google_project_iam_member" "sealer_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.member.sealer
  condition {
    title       = "platform-database"
    description = "Only the platform's Firestore database."
    expression  = local.platform_database_condition
  }
}

# Reason: each pass re-queues extractions whose message was lost (extraction/sweeper.ts);
# this topic only.
resource "google_pubsub_topic_iam_member" "sealer_extraction_requests" {
  project = var.project_id
  topic   = var.topics["extraction-requests"]
  role    = "roles/pubsub.publisher"
  member  = local.member.sealer
}

# Reason: the sealer signs each tree head; this key only.
resource "google_kms_crypto_key_iam_member" "sealer_sign" {
  crypto_key_id = var.sealing_key
  role          = "roles/cloudkms.signer"
  member        = local.member.sealer
}

# Reason: the sealer exports create-only with Locked retention and reads back to resume;
# the audit bucket only, and never delete.
resource "google_storage_bucket_iam_member" "sealer_audit_export" {
  bucket = var.audit_bucket
  role   = var.audit_exporter_role
  member = local.member.sealer
}
