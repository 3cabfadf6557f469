# Production: HSM keys, warm instances for the API and the worker, and the audit trail locked.
# Locking is irreversible (docs/deploy.md): lock_audit_retention and lock_audit_logs are
# variables only so that a first apply can be checked before they are set for good.
provider "google" {
  project = var.project_id
  region  = var.region
}

module "platform" {
  source                   = "../../modules/platform"
  project_id               = var.project_id
  region                   = var.region
  firestore_location       = var.firestore_location
  source_dir               = "${path.root}/../../.build/functions"
  rules_file               = "${path.root}/../../../firestore.rules"
  authorized_domains       = var.authorized_domains
  kms_protection_level     = "HSM"
  documents_retention_days = var.documents_retention_days
  evidence_retention_days  = var.evidence_retention_days
  lock_audit_retention     = var.lock_audit_retention
  lock_audit_logs          = var.lock_audit_logs
  ops_invokers             = var.ops_invokers
  alert_emails             = var.alert_emails
  instances = {
    api            = { min = 1, max = 50 }
    extract_worker = { min = 1, max = 50 }
    notifier       = { min = 0, max = 20 }
  }
}

module "enterprise_tenant" {
  source                    = "../../modules/enterprise-tenant"
  for_each                  = var.enterprise_tenants
  project_id                = var.project_id
  tenant_id                 = each.key
  location                  = each.value
  protection_level          = "HSM"
  rules_file                = "${path.root}/../../../firestore.rules"
  function_service_accounts = module.platform.function_service_accounts
}
