# api: the public HTTPS API (functions/src/http/api.ts). Callers authenticate in the code (API key
# or ID token), so the function itself is open to the internet; everything behind it is not.

resource "google_service_account" "api" {
  project      = var.project_id
  account_id   = "provenant-api"
  display_name = "Provenant api"
  description  = "Runs the api function."
}

resource "google_cloudfunctions2_function" "api" {
  project     = var.project_id
  location    = var.region
  name        = "api"
  description = "Public HTTPS API: extractions, evidence, API keys, schemas, webhooks."

  build_config {
    runtime           = local.runtime
    entry_point       = "api"
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
    service_account_email            = google_service_account.api.email
    ingress_settings                 = "ALLOW_ALL"
    available_memory                 = "1Gi"
    available_cpu                    = "1"
    timeout_seconds                  = 60
    max_instance_request_concurrency = 20
    min_instance_count               = local.instances.api.min
    max_instance_count               = local.instances.api.max
    all_traffic_on_latest_revision   = true

    environment_variables = merge(local.environment, {
      OPENAI_API_KEY    = local.not_provisioned
      ANTHROPIC_API_KEY = local.not_provisioned
    })

    secret_environment_variables {
      key        = "API_KEY_PEPPER"
      project_id = var.project_id
      secret     = var.secret_names["api-key-pepper"]
      version    = "latest"
    }
  }

  depends_on = [google_secret_manager_secret_iam_member.api_pepper, google_project_iam_member.builder_logs, google_artifact_registry_repository_iam_member.builder_images, google_storage_bucket_iam_member.builder_sources]
}

# Reason: the API is public by design (the code authenticates every route but the OpenAPI
# document); the one function that allows unauthenticated invocation.
resource "google_cloud_run_v2_service_iam_member" "api_public" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.api.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Reason: api verifies API keys (hash with the pepper) and signs page tokens; this secret only.
resource "google_secret_manager_secret_iam_member" "api_pepper" {
  project   = var.project_id
  secret_id = var.secret_ids["api-key-pepper"]
  role      = "roles/secretmanager.secretAccessor"
  member    = local.member.api
}

# Reason: api reads and writes tenants' data and the API key registry; the platform database only.
resource "google_project_iam_member" "api_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.member.api
  condition {
    title       = "platform-database"
    description = "Only the platform's Firestore database."
    expression  = local.platform_database_condition
  }
}

# Reason: api wraps new data keys and unwraps tenants' wrapping keys with their KEKs (submission,
# reading results); scoped to the platform key ring, where the tenant KEKs live.
resource "google_kms_key_ring_iam_member" "api_tenant_keys" {
  key_ring_id = var.key_ring
  role        = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member      = local.member.api
}

# Reason: api serves the sealing key's public key with checkpoints and receipts; this key only.
resource "google_kms_crypto_key_iam_member" "api_sealing_public_key" {
  crypto_key_id = var.sealing_key
  role          = "roles/cloudkms.publicKeyViewer"
  member        = local.member.api
}

# Reason: api stores sealed originals, reads them back and deletes them on erasure; this bucket.
resource "google_storage_bucket_iam_member" "api_documents" {
  bucket = var.documents_bucket
  role   = "roles/storage.objectUser"
  member = local.member.api
}

# Reason: api queues each accepted extraction; this topic only.
resource "google_pubsub_topic_iam_member" "api_extraction_requests" {
  project = var.project_id
  topic   = var.topics["extraction-requests"]
  role    = "roles/pubsub.publisher"
  member  = local.member.api
}

# Reason: api checks ID tokens with revocation (verifyIdToken(token, true) reads the user);
# Identity Platform grants exist at project level only.
resource "google_project_iam_member" "api_identity_viewer" {
  project = var.project_id
  role    = "roles/firebaseauth.viewer"
  member  = local.member.api
}
