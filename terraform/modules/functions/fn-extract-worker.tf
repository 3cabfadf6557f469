# extractWorker: runs one extraction per `extraction-requests` message (extraction/pipeline.ts):
# opens the sealed original, calls the providers, seals the raw response, commits the result with
# its evidence. Internal ingress; its push account is its only invoker.

resource "google_service_account" "extract_worker" {
  project      = var.project_id
  account_id   = "provenant-extract-worker"
  display_name = "Provenant extractWorker"
  description  = "Runs the extractWorker function; the only holder of the provider keys."
}

resource "google_cloudfunctions2_function" "extract_worker" {
  project     = var.project_id
  location    = var.region
  name        = "extract-worker"
  description = "Extraction pipeline, pushed from extraction-requests."

  build_config {
    runtime           = local.runtime
    entry_point       = "extractWorker"
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
    service_account_email = google_service_account.extract_worker.email
    ingress_settings      = "ALLOW_INTERNAL_ONLY"
    available_memory      = "1Gi"
    available_cpu         = "1"
    # Provider calls with retries and backoff (LLM_TIMEOUT_MS, LLM_MAX_RETRIES) fit well inside.
    timeout_seconds                  = 300
    max_instance_request_concurrency = 8
    min_instance_count               = local.instances.extract_worker.min
    max_instance_count               = local.instances.extract_worker.max
    all_traffic_on_latest_revision   = true

    environment_variables = merge(local.environment, {
      API_KEY_PEPPER = local.not_provisioned
    })

    secret_environment_variables {
      key        = "OPENAI_API_KEY"
      project_id = var.project_id
      secret     = var.secret_names["openai-api-key"]
      version    = "latest"
    }
    secret_environment_variables {
      key        = "ANTHROPIC_API_KEY"
      project_id = var.project_id
      secret     = var.secret_names["anthropic-api-key"]
      version    = "latest"
    }
  }

  depends_on = [
    google_secret_manager_secret_iam_member.extract_worker_openai,
    google_secret_manager_secret_iam_member.extract_worker_anthropic,
    google_project_iam_member.builder_logs,
    google_artifact_registry_repository_iam_member.builder_images,
    google_storage_bucket_iam_member.builder_sources,
  ]
}

# Trigger: extraction-requests → push (OIDC) → extract-worker; five failed deliveries →
# extraction-requests-dlq, which deadLetterWorker consumes.
module "extract_worker_trigger" {
  source                = "../push-trigger"
  project_id            = var.project_id
  region                = var.region
  function_name         = google_cloudfunctions2_function.extract_worker.name
  function_uri          = google_cloudfunctions2_function.extract_worker.service_config[0].uri
  push_account_id       = "push-extract-worker"
  subscription_name     = "extraction-requests-worker"
  topic_name            = "extraction-requests"
  topic_id              = var.topics["extraction-requests"]
  dead_letter_topic_id  = var.topics["extraction-requests-dlq"]
  max_delivery_attempts = 5
  ack_deadline_seconds  = 300
  minimum_backoff       = "10s"
  pubsub_service_agent  = local.pubsub_service_agent
}

# Reason: the worker calls OpenAI; this secret only.
resource "google_secret_manager_secret_iam_member" "extract_worker_openai" {
  project   = var.project_id
  secret_id = var.secret_ids["openai-api-key"]
  role      = "roles/secretmanager.secretAccessor"
  member    = local.member.extract_worker
}

# Reason: the worker calls Anthropic; this secret only.
resource "google_secret_manager_secret_iam_member" "extract_worker_anthropic" {
  project   = var.project_id
  secret_id = var.secret_ids["anthropic-api-key"]
  role      = "roles/secretmanager.secretAccessor"
  member    = local.member.extract_worker
}

# Reason: the worker claims extractions and commits results with evidence; platform database only.
resource "google_project_iam_member" "extract_worker_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.member.extract_worker
  condition {
    title       = "platform-database"
    description = "Only the platform's Firestore database."
    expression  = local.platform_database_condition
  }
}

# Reason: the worker unwraps the original's data key and wraps new ones (raw response, result);
# scoped to the platform key ring.
resource "google_kms_key_ring_iam_member" "extract_worker_tenant_keys" {
  key_ring_id = var.key_ring
  role        = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member      = local.member.extract_worker
}

# Reason: the worker reads sealed originals and stores sealed raw responses; this bucket only.
resource "google_storage_bucket_iam_member" "extract_worker_documents" {
  bucket = var.documents_bucket
  role   = "roles/storage.objectUser"
  member = local.member.extract_worker
}

# Reason: the worker announces each outcome for webhooks; this topic only.
resource "google_pubsub_topic_iam_member" "extract_worker_notifications" {
  project = var.project_id
  topic   = var.topics["notifications"]
  role    = "roles/pubsub.publisher"
  member  = local.member.extract_worker
}
