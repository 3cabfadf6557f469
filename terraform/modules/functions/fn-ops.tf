# ops: the operators' HTTPS API (functions/src/http/ops.ts): onboard and offboard tenants,
# register customer-managed keys. Internal ingress, and only the principals in var.ops_invokers
# may invoke it (with their Google identity token in X-Serverless-Authorization, the Firebase
# operator token in Authorization); operators otherwise use the CLI with their own credentials.

resource "google_service_account" "ops" {
  project      = var.project_id
  account_id   = "provenant-ops"
  display_name = "Provenant ops"
  description  = "Runs the ops function: tenant lifecycle, KEK creation, CMEK registration."
}

resource "google_cloudfunctions2_function" "ops" {
  project     = var.project_id
  location    = var.region
  name        = "ops"
  description = "Operators' API: onboarding, offboarding, customer-managed keys."

  build_config {
    runtime           = local.runtime
    entry_point       = "ops"
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
    service_account_email            = google_service_account.ops.email
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 300
    max_instance_request_concurrency = 4
    min_instance_count               = local.instances.ops.min
    max_instance_count               = local.instances.ops.max
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

  depends_on = [google_secret_manager_secret_iam_member.ops_pepper, google_project_iam_member.builder_logs, google_artifact_registry_repository_iam_member.builder_images, google_storage_bucket_iam_member.builder_sources]
}

# Reason: only the named operators (groups or users, never the public) may reach ops at all;
# the function then demands an operator ID token. Scoped to this service.
resource "google_cloud_run_v2_service_iam_member" "ops_invoker" {
  for_each = toset(var.ops_invokers)
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.ops.name
  role     = "roles/run.invoker"
  member   = each.value
}

# Reason: onboarding issues the tenant's first API key (hashed with the pepper); this secret only.
resource "google_secret_manager_secret_iam_member" "ops_pepper" {
  project   = var.project_id
  secret_id = var.secret_ids["api-key-pepper"]
  role      = "roles/secretmanager.secretAccessor"
  member    = local.member.ops
}

# Reason: ops creates and retires tenant profiles, API keys and evidence; platform database only.
resource "google_project_iam_member" "ops_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = local.member.ops
  condition {
    title       = "platform-database"
    description = "Only the platform's Firestore database."
    expression  = local.platform_database_condition
  }
}

# Reason: onboarding creates each tenant's KEK; ops is the only account that may create keys,
# and only in the platform key ring.
resource "google_kms_key_ring_iam_member" "ops_create_tenant_keys" {
  key_ring_id = var.key_ring
  role        = var.kms_roles.tenant_key_creator
  member      = local.member.ops
}

# Reason: onboarding's idempotent createKeyRing needs the create permission on the location to
# get ALREADY_EXISTS back (crypto/kms.ts ensureKeyRing); Cloud KMS checks it at project level.
resource "google_project_iam_member" "ops_ensure_key_ring" {
  project = var.project_id
  role    = var.kms_roles.key_ring_ensurer
  member  = local.member.ops
}

# Reason: CMEK registration disables the platform KEK's versions, offboarding destroys them;
# scoped to the platform key ring.
resource "google_kms_key_ring_iam_member" "ops_tenant_key_lifecycle" {
  key_ring_id = var.key_ring
  role        = var.kms_roles.tenant_key_lifecycle
  member      = local.member.ops
}

# Reason: onboarding wraps the new tenant's wrapping key; CMEK registration re-wraps it;
# scoped to the platform key ring.
resource "google_kms_key_ring_iam_member" "ops_tenant_keys" {
  key_ring_id = var.key_ring
  role        = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member      = local.member.ops
}

# Reason: offboarding signs the deletion certificate with the sealing key; this key only.
resource "google_kms_crypto_key_iam_member" "ops_sealing_sign" {
  crypto_key_id = var.sealing_key
  role          = "roles/cloudkms.signer"
  member        = local.member.ops
}

# Reason: offboarding deletes the tenant's objects; this bucket only.
resource "google_storage_bucket_iam_member" "ops_documents" {
  bucket = var.documents_bucket
  role   = "roles/storage.objectUser"
  member = local.member.ops
}

# Reason: offboarding seals and exports its certificate; create-and-read on the audit bucket.
resource "google_storage_bucket_iam_member" "ops_audit_export" {
  bucket = var.audit_bucket
  role   = var.audit_exporter_role
  member = local.member.ops
}

# Reason: onboarding creates the tenant's first admin and sets claims in Identity Platform,
# which grants user management at project level only.
resource "google_project_iam_member" "ops_identity_admin" {
  project = var.project_id
  role    = "roles/firebaseauth.admin"
  member  = local.member.ops
}
