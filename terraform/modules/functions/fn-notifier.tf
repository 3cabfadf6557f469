# notifier: signs and delivers webhook events (webhooks/notifier.ts). Internal ingress; its push
# account is its only invoker. Outbound calls go to customers' endpoints through the SSRF guard.

resource "google_service_account" "notifier" {
  project      = var.project_id
  account_id   = "provenant-notifier"
  display_name = "Provenant notifier"
  description  = "Runs the notifier function."
}

resource "google_cloudfunctions2_function" "notifier" {
  project     = var.project_id
  location    = var.region
  name        = "notifier"
  description = "Signed webhook deliveries, pushed from notifications."

  build_config {
    runtime           = local.runtime
    entry_point       = "notifier"
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
    service_account_email = google_service_account.notifier.email
    ingress_settings      = "ALLOW_INTERNAL_ONLY"
    available_memory      = "512Mi"
    available_cpu         = "1"
    # A few in-function attempts of WEBHOOK_TIMEOUT_MS each, per endpoint.
    timeout_seconds                  = 120
    max_instance_request_concurrency = 20
    min_instance_count               = local.instances.notifier.min
    max_instance_count               = local.instances.notifier.max
    all_traffic_on_latest_revision   = true

    environment_variables = merge(local.environment, {
      API_KEY_PEPPER    = local.not_provisioned
      OPENAI_API_KEY    = local.not_provisioned
      ANTHROPIC_API_KEY = local.not_provisioned
    })
  }

  depends_on = [google_project_iam_member.builder_logs, google_artifact_registry_repository_iam_member.builder_images, google_storage_bucket_iam_member.builder_sources]
}

# Trigger: notifications → push (OIDC) → notifier; a notification that keeps failing ends on
# notifications-dlq after WEBHOOK_MAX_ATTEMPTS-bounded redeliveries.
module "notifier_trigger" {
  source                = "../push-trigger"
  project_id            = var.project_id
  region                = var.region
  function_name         = google_cloudfunctions2_function.notifier.name
  function_uri          = google_cloudfunctions2_function.notifier.service_config[0].uri
  push_account_id       = "push-notifier"
  subscription_name     = "notifications-notifier"
  topic_name            = "notifications"
  topic_id              = var.topics["notifications"]
  dead_letter_topic_id  = var.topics["notifications-dlq"]
  max_delivery_attempts = 20
  ack_deadline_seconds  = 120
  minimum_backoff       = "30s"
  pubsub_service_agent  = local.pubsub_service_agent
}

# Reason: the notifier reads webhooks and records each delivery attempt; platform database only.
resource "google_project_iam_member" "notifier_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.member.notifier
  condition {
    title       = "platform-database"
    description = "Only the platform's Firestore database."
    expression  = local.platform_database_condition
  }
}

# Reason: each endpoint's signing secret is sealed under its tenant's keys; the notifier unwraps
# it. Scoped to the platform key ring.
resource "google_kms_key_ring_iam_member" "notifier_tenant_keys" {
  key_ring_id = var.key_ring
  role        = "roles/cloudkms.cryptoKeyDecrypter"
  member      = local.member.notifier
}
