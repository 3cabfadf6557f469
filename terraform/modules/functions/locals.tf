# What every function shares. Each function's own file (fn-*.tf) holds its service account, its
# IAM, the function and its trigger.
locals {
  # The Node major package.json pins (`engines.node`); test/unit/terraform-policy.test.ts holds
  # every function to it.
  runtime = "nodejs22"

  # The settings of functions/src/config.ts that are the same for every function. Endpoints
  # (*_EMULATOR_HOST, STORAGE_API_ENDPOINT, KMS_API_ENDPOINT, *_BASE_URL) stay unset: in
  # production every client uses Google's and the providers' own.
  environment = {
    GOOGLE_CLOUD_PROJECT    = var.project_id
    DOCUMENTS_BUCKET        = var.documents_bucket
    AUDIT_BUCKET            = var.audit_bucket
    EXTRACTION_TOPIC        = "extraction-requests"
    NOTIFICATIONS_TOPIC     = "notifications"
    KMS_KEY_RING            = var.key_ring
    SEALING_KEY_VERSION     = var.sealing_key_version
    EVIDENCE_RETENTION_DAYS = tostring(var.evidence_retention_days)
    DEFAULT_PROVIDER        = var.default_provider
    OPENAI_MODEL            = var.openai_model
    ANTHROPIC_MODEL         = var.anthropic_model
  }

  # config.ts requires API_KEY_PEPPER, OPENAI_API_KEY and ANTHROPIC_API_KEY of every function at
  # cold start, but each secret is granted only to the functions that use it. The others get this
  # fixed, non-secret value, which fails closed: a provider rejects it as a key and no stored API
  # key hash was made with it as a pepper. (32+ characters, as config.ts demands of the pepper.)
  not_provisioned = "not-provisioned-for-this-function"

  member = {
    for name, sa in {
      api                = google_service_account.api
      ops                = google_service_account.ops
      extract_worker     = google_service_account.extract_worker
      dead_letter_worker = google_service_account.dead_letter_worker
      notifier           = google_service_account.notifier
      sealer             = google_service_account.sealer
    } : name => "serviceAccount:${sa.email}"
  }

  # Firestore grants are project-level by nature; this condition narrows each to the platform
  # database (dedicated tenants' databases get their own, modules/enterprise-tenant).
  platform_database_condition = "resource.name == \"${var.database_resource_name}\""

  instances = merge(var.default_instances, var.instances)
}

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  pubsub_service_agent = "service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}
