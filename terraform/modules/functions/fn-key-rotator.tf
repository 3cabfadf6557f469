# keyRotator: the scheduled KEK rotation (lifecycle/key-rotation.ts rotateKeks, what
# `npx provenant keys rotate` runs): a new KEK version per tenant, the wrapping key re-wrapped
# under it, the old versions disabled. Cloud KMS rotates tenant KEKs by itself (the 90-day
# rotation period onboarding sets) but nothing re-wraps under the new version until this runs.
# The rotation id is the UTC date, so a retried or repeated trigger the same day converges.

resource "google_service_account" "key_rotator" {
  project      = var.project_id
  account_id   = "provenant-key-rotator"
  display_name = "Provenant keyRotator"
  description  = "Runs the keyRotator function: tenant KEK rotation."
}

resource "google_pubsub_topic" "key_rotation_requests" {
  project = var.project_id
  name    = "key-rotation-requests"
  labels  = { role = "work" }
}

resource "google_pubsub_topic" "key_rotation_requests_dlq" {
  project                    = var.project_id
  name                       = "key-rotation-requests-dlq"
  labels                     = { role = "dead-letter" }
  message_retention_duration = "2678400s"
}

resource "google_cloudfunctions2_function" "key_rotator" {
  project     = var.project_id
  location    = var.region
  name        = "key-rotator"
  description = "Scheduled tenant KEK rotation, pushed from key-rotation-requests."

  build_config {
    runtime           = local.runtime
    entry_point       = "keyRotator"
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
    service_account_email            = google_service_account.key_rotator.email
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

# Trigger, part one: Cloud Scheduler publishes one message per rotation run.
resource "google_cloud_scheduler_job" "key_rotation" {
  project     = var.project_id
  region      = var.region
  name        = "provenant-key-rotation"
  description = "Rotate every active tenant's KEK and re-wrap its wrapping key."
  schedule    = var.key_rotation_schedule
  time_zone   = "Etc/UTC"

  retry_config {
    retry_count = 1
  }

  pubsub_target {
    topic_name = google_pubsub_topic.key_rotation_requests.id
    data       = base64encode(jsonencode({ trigger = "cloud-scheduler" }))
  }
}

# Trigger, part two: key-rotation-requests → push (OIDC) → key-rotator. A rotation is resumable
# and idempotent per rotation id (the UTC date), so redeliveries converge.
module "key_rotator_trigger" {
  source                = "../push-trigger"
  project_id            = var.project_id
  region                = var.region
  function_name         = google_cloudfunctions2_function.key_rotator.name
  function_uri          = google_cloudfunctions2_function.key_rotator.service_config[0].uri
  push_account_id       = "push-key-rotator"
  subscription_name     = "key-rotation-requests-rotator"
  topic_name            = "key-rotation-requests"
  topic_id              = google_pubsub_topic.key_rotation_requests.id
  dead_letter_topic_id  = google_pubsub_topic.key_rotation_requests_dlq.id
  max_delivery_attempts = 5
  ack_deadline_seconds  = 540
  minimum_backoff       = "60s"
  pubsub_service_agent  = local.pubsub_service_agent
}

# Reason: rotation reads tenant profiles and records progress and evidence; platform database.
resource "google_project_iam_member" "key_rotator_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.key_rotator.email}"
  condition {
    title       = "platform-database"
    description = "Only the platform's Firestore database."
    expression  = local.platform_database_condition
  }
}

# Reason: rotation creates a KEK version, makes it primary and disables the old ones; scoped to
# the platform key ring. It cannot create keys.
resource "google_kms_key_ring_iam_member" "key_rotator_lifecycle" {
  key_ring_id = var.key_ring
  role        = var.kms_roles.tenant_key_lifecycle
  member      = "serviceAccount:${google_service_account.key_rotator.email}"
}

# Reason: rotation unwraps the wrapping key and wraps it again under the new version; scoped to
# the platform key ring.
resource "google_kms_key_ring_iam_member" "key_rotator_tenant_keys" {
  key_ring_id = var.key_ring
  role        = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member      = "serviceAccount:${google_service_account.key_rotator.email}"
}
