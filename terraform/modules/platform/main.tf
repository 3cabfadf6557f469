# One whole environment of Provenant: every concern module, wired together. terraform/envs/*
# call this with their own settings (and add dedicated tenants).

module "apis" {
  source     = "../apis"
  project_id = var.project_id
}

module "kms" {
  source           = "../kms"
  project_id       = var.project_id
  location         = var.region
  protection_level = var.kms_protection_level
  depends_on       = [module.apis]
}

module "firestore" {
  source      = "../firestore"
  project_id  = var.project_id
  location_id = var.firestore_location
  rules_file  = var.rules_file
  depends_on  = [module.apis]
}

module "identity" {
  source             = "../identity"
  project_id         = var.project_id
  authorized_domains = var.authorized_domains
  depends_on         = [module.apis]
}

module "storage" {
  source                   = "../storage"
  project_id               = var.project_id
  location                 = var.region
  documents_kms_key        = module.kms.documents_bucket_key
  documents_retention_days = var.documents_retention_days
  audit_retention_days     = var.evidence_retention_days
  lock_audit_retention     = var.lock_audit_retention
  # The documents bucket's CMEK must be usable by Cloud Storage before the bucket exists.
  depends_on = [module.apis, module.kms]
}

module "pubsub" {
  source     = "../pubsub"
  project_id = var.project_id
  depends_on = [module.apis]
}

module "secrets" {
  source     = "../secrets"
  project_id = var.project_id
  depends_on = [module.apis]
}

module "functions" {
  source                  = "../functions"
  project_id              = var.project_id
  region                  = var.region
  source_dir              = var.source_dir
  sources_bucket          = module.storage.sources_bucket
  documents_bucket        = module.storage.documents_bucket
  audit_bucket            = module.storage.audit_bucket
  audit_exporter_role     = module.storage.audit_exporter_role
  key_ring                = module.kms.key_ring
  sealing_key             = module.kms.sealing_key
  sealing_key_version     = module.kms.sealing_key_version
  kms_roles               = module.kms.roles
  topics                  = module.pubsub.topics
  secret_ids              = module.secrets.secret_ids
  secret_names            = module.secrets.secret_names
  database_resource_name  = module.firestore.database_resource_name
  evidence_retention_days = var.evidence_retention_days
  default_provider        = var.default_provider
  instances               = var.instances
  ops_invokers            = var.ops_invokers
  seal_schedule           = var.seal_schedule
  depends_on              = [module.apis, module.identity]
}

module "audit_logs" {
  source         = "../audit-logs"
  project_id     = var.project_id
  retention_days = var.audit_log_retention_days
  locked         = var.lock_audit_logs
  depends_on     = [module.apis]
}

module "monitoring" {
  source       = "../monitoring"
  project_id   = var.project_id
  alert_emails = var.alert_emails
  depends_on   = [module.apis]
}
