# Staging: the whole platform at small scale, software keys, nothing locked, so it can be torn
# down and rebuilt. `terraform apply` here first, then production.
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
  kms_protection_level     = "SOFTWARE"
  documents_retention_days = 30
  evidence_retention_days  = 2557
  lock_audit_retention     = false
  lock_audit_logs          = false
  ops_invokers             = var.ops_invokers
  alert_emails             = var.alert_emails
  instances = {
    api            = { min = 0, max = 5 }
    extract_worker = { min = 0, max = 5 }
  }
}

module "enterprise_tenant" {
  source                    = "../../modules/enterprise-tenant"
  for_each                  = var.enterprise_tenants
  project_id                = var.project_id
  tenant_id                 = each.key
  location                  = each.value
  protection_level          = "SOFTWARE"
  rules_file                = "${path.root}/../../../firestore.rules"
  function_service_accounts = module.platform.function_service_accounts
}
