variable "project_id" {
  description = "The Google Cloud project that hosts the deployment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "region" {
  description = "Region of the functions, the scheduler jobs and the image repository."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Cloud Functions region such as europe-west3."
  }
}

variable "source_dir" {
  description = "The staged function source (terraform/scripts/package-functions.sh writes it)."
  type        = string
  validation {
    condition     = length(var.source_dir) > 0
    error_message = "source_dir must name the staged source directory."
  }
}

variable "sources_bucket" {
  description = "Bucket of the source archives."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", var.sources_bucket))
    error_message = "sources_bucket must be a bucket name."
  }
}

variable "documents_bucket" {
  description = "DOCUMENTS_BUCKET."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", var.documents_bucket))
    error_message = "documents_bucket must be a bucket name."
  }
}

variable "audit_bucket" {
  description = "AUDIT_BUCKET."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$", var.audit_bucket))
    error_message = "audit_bucket must be a bucket name."
  }
}

variable "audit_exporter_role" {
  description = "Custom role id for writing sealed exports (modules/storage)."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/roles/[A-Za-z0-9_.]+$", var.audit_exporter_role))
    error_message = "audit_exporter_role must be projects/P/roles/R."
  }
}

variable "key_ring" {
  description = "KMS_KEY_RING: the platform key ring's id."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+$", var.key_ring))
    error_message = "key_ring must be projects/P/locations/L/keyRings/R."
  }
}

variable "sealing_key" {
  description = "The evidence-sealing key's id."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.sealing_key))
    error_message = "sealing_key must be projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

variable "sealing_key_version" {
  description = "SEALING_KEY_VERSION."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+/cryptoKeyVersions/[0-9]+$", var.sealing_key_version))
    error_message = "sealing_key_version must be a crypto key version name."
  }
}

variable "kms_roles" {
  description = "Custom KMS role ids (modules/kms roles)."
  type = object({
    tenant_key_creator   = string
    key_ring_ensurer     = string
    tenant_key_lifecycle = string
  })
  validation {
    condition     = alltrue([for r in values(var.kms_roles) : can(regex("^projects/[^/]+/roles/[A-Za-z0-9_.]+$", r))])
    error_message = "kms_roles must hold custom role ids projects/P/roles/R."
  }
}

variable "topics" {
  description = "Topic ids by name (modules/pubsub topics)."
  type        = map(string)
  validation {
    condition     = alltrue([for t in ["extraction-requests", "extraction-requests-dlq", "extraction-requests-dlq-failed", "seal-requests", "seal-requests-dlq", "notifications", "notifications-dlq"] : contains(keys(var.topics), t)])
    error_message = "topics must name every topic modules/pubsub creates."
  }
}

variable "secret_ids" {
  description = "Secret ids by name (modules/secrets secret_ids)."
  type        = map(string)
  validation {
    condition     = alltrue([for s in ["api-key-pepper", "openai-api-key", "anthropic-api-key"] : contains(keys(var.secret_ids), s)])
    error_message = "secret_ids must name every secret modules/secrets creates."
  }
}

variable "secret_names" {
  description = "Secret short names by name (modules/secrets secret_names)."
  type        = map(string)
  validation {
    condition     = alltrue([for s in ["api-key-pepper", "openai-api-key", "anthropic-api-key"] : contains(keys(var.secret_names), s)])
    error_message = "secret_names must name every secret modules/secrets creates."
  }
}

variable "database_resource_name" {
  description = "projects/P/databases/(default): the platform database IAM conditions name."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/databases/[^/]+$", var.database_resource_name))
    error_message = "database_resource_name must be projects/P/databases/D."
  }
}

variable "evidence_retention_days" {
  description = "EVIDENCE_RETENTION_DAYS: Locked retention of each exported seal, at least 7 years."
  type        = number
  validation {
    condition     = var.evidence_retention_days >= 2557 && var.evidence_retention_days <= 36500
    error_message = "evidence_retention_days must be at least 2557 (7 years)."
  }
}

variable "seal_safety_seconds" {
  description = "SEAL_SAFETY_SECONDS: records younger than this wait for the next seal."
  type        = number
  default     = 60
  validation {
    condition     = var.seal_safety_seconds >= 0 && var.seal_safety_seconds <= 3600
    error_message = "seal_safety_seconds must be between 0 and 3600."
  }
}

variable "stuck_extraction_seconds" {
  description = "STUCK_EXTRACTION_SECONDS: an unfinished extraction idle this long is re-queued by the seal pass."
  type        = number
  default     = 600
  validation {
    condition     = var.stuck_extraction_seconds >= 5 && var.stuck_extraction_seconds <= 86400
    error_message = "stuck_extraction_seconds must be between 5 and 86400."
  }
}

variable "default_provider" {
  description = "DEFAULT_PROVIDER for tenants that name none."
  type        = string
  default     = "openai"
  validation {
    condition     = contains(["openai", "anthropic"], var.default_provider)
    error_message = "default_provider must be one of config.ts PROVIDERS: openai, anthropic."
  }
}

variable "openai_model" {
  description = "OPENAI_MODEL."
  type        = string
  default     = "gpt-4o-mini"
  validation {
    condition     = length(var.openai_model) > 0
    error_message = "openai_model must not be empty."
  }
}

variable "anthropic_model" {
  description = "ANTHROPIC_MODEL."
  type        = string
  default     = "claude-sonnet-5-5"
  validation {
    condition     = length(var.anthropic_model) > 0
    error_message = "anthropic_model must not be empty."
  }
}

variable "default_instances" {
  description = "Instance bounds per function when var.instances does not override them."
  type        = map(object({ min = number, max = number }))
  default = {
    api                = { min = 0, max = 20 }
    ops                = { min = 0, max = 2 }
    extract_worker     = { min = 0, max = 20 }
    dead_letter_worker = { min = 0, max = 3 }
    notifier           = { min = 0, max = 10 }
    sealer             = { min = 0, max = 1 }
  }
  validation {
    condition     = alltrue([for v in values(var.default_instances) : v.min >= 0 && v.max >= 1 && v.min <= v.max])
    error_message = "default_instances must have 0 <= min <= max and max >= 1."
  }
}

variable "instances" {
  description = "Per-environment instance bounds, by function (api, ops, extract_worker, dead_letter_worker, notifier, sealer)."
  type        = map(object({ min = number, max = number }))
  default     = {}
  validation {
    condition     = alltrue([for k, v in var.instances : contains(["api", "ops", "extract_worker", "dead_letter_worker", "notifier", "sealer"], k) && v.min >= 0 && v.max >= 1 && v.min <= v.max])
    error_message = "instances keys must be function names and each must have 0 <= min <= max, max >= 1."
  }
  validation {
    condition     = !contains(keys(var.instances), "sealer") || try(var.instances["sealer"].max, 1) == 1
    error_message = "the sealer runs one pass at a time: its max must stay 1."
  }
}

variable "ops_invokers" {
  description = "Principals allowed to invoke ops (group:..., user:..., serviceAccount:...); never the public."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.ops_invokers : can(regex("^(group|user|serviceAccount):[^@\\s]+@[^@\\s]+$", m))])
    error_message = "ops_invokers must be group:, user: or serviceAccount: members (allUsers and allAuthenticatedUsers are refused)."
  }
}

variable "seal_schedule" {
  description = "Cron schedule (UTC) of the seal pass."
  type        = string
  default     = "*/5 * * * *"
  validation {
    condition     = length(split(" ", var.seal_schedule)) == 5
    error_message = "seal_schedule must be a five-field cron expression."
  }
}

variable "key_rotation_schedule" {
  description = "Cron schedule (UTC) of the tenant KEK rotation ."
  type        = string
  default     = "0 3 1 * *"
  validation {
    condition     = length(split(" ", var.key_rotation_schedule)) == 5
    error_message = "key_rotation_schedule must be a five-field cron expression."
  }
}

variable "retention_schedule" {
  description = "Cron schedule (UTC) of the content retention pass."
  type        = string
  default     = "17 * * * *"
  validation {
    condition     = length(split(" ", var.retention_schedule)) == 5
    error_message = "retention_schedule must be a five-field cron expression."
  }
}
