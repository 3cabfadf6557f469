variable "project_id" {
  description = "The Google Cloud project of this environment (created beforehand, with billing)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id (6-30 lowercase letters, digits, hyphens)."
  }
}

variable "region" {
  description = "Region of the functions, buckets, key rings, scheduler and images."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a region such as europe-west3."
  }
}

variable "firestore_location" {
  description = "Firestore location of the platform database (the region, or a multi-region such as eur3)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+[0-9]*(-[a-z]+[0-9]+)?$", var.firestore_location))
    error_message = "firestore_location must be a Firestore location such as europe-west3 or eur3."
  }
}

variable "source_dir" {
  description = "The staged function source (terraform/scripts/package-functions.sh)."
  type        = string
  validation {
    condition     = length(var.source_dir) > 0
    error_message = "source_dir must name the staged source directory."
  }
}

variable "rules_file" {
  description = "Path of the repository's firestore.rules."
  type        = string
  validation {
    condition     = endswith(var.rules_file, ".rules")
    error_message = "rules_file must name a .rules file."
  }
}

variable "authorized_domains" {
  description = "Domains allowed to complete Identity Platform sign-in flows."
  type        = list(string)
  validation {
    condition     = alltrue([for d in var.authorized_domains : can(regex("^[a-z0-9.-]+$", d))])
    error_message = "authorized_domains must be bare host names."
  }
}

variable "kms_protection_level" {
  description = "SOFTWARE or HSM for the platform's own keys (sealing, bucket CMEK)."
  type        = string
  validation {
    condition     = contains(["SOFTWARE", "HSM"], var.kms_protection_level)
    error_message = "kms_protection_level must be SOFTWARE or HSM."
  }
}

variable "documents_retention_days" {
  description = "Days originals and raw model responses are kept before deletion."
  type        = number
  validation {
    condition     = var.documents_retention_days >= 1 && var.documents_retention_days <= 36500
    error_message = "documents_retention_days must be between 1 and 36500."
  }
}

variable "evidence_retention_days" {
  description = "Retention of the evidence export (bucket policy and EVIDENCE_RETENTION_DAYS): at least 7 years."
  type        = number
  default     = 2557
  validation {
    condition     = var.evidence_retention_days >= 2557 && var.evidence_retention_days <= 36500
    error_message = "evidence_retention_days must be at least 2557 (7 years)."
  }
}

variable "lock_audit_retention" {
  description = "Lock the audit bucket's retention policy (IRREVERSIBLE)."
  type        = bool
}

variable "audit_log_retention_days" {
  description = "Retention of the audit log bucket: 2557 (7 years) to 3650 days."
  type        = number
  default     = 2557
  validation {
    condition     = var.audit_log_retention_days >= 2557 && var.audit_log_retention_days <= 3650
    error_message = "audit_log_retention_days must be between 2557 and 3650."
  }
}

variable "lock_audit_logs" {
  description = "Lock the audit log bucket (IRREVERSIBLE)."
  type        = bool
}

variable "default_provider" {
  description = "DEFAULT_PROVIDER."
  type        = string
  default     = "openai"
  validation {
    condition     = contains(["openai", "anthropic"], var.default_provider)
    error_message = "default_provider must be openai or anthropic."
  }
}

variable "instances" {
  description = "Instance bounds per function (see modules/functions)."
  type        = map(object({ min = number, max = number }))
  default     = {}
  validation {
    condition     = alltrue([for v in values(var.instances) : v.min >= 0 && v.min <= v.max])
    error_message = "instances must have 0 <= min <= max."
  }
}

variable "ops_invokers" {
  description = "Principals allowed to invoke ops; never the public."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.ops_invokers : can(regex("^(group|user|serviceAccount):", m))])
    error_message = "ops_invokers must be group:, user: or serviceAccount: members."
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

variable "alert_emails" {
  description = "Where alerts go."
  type        = list(string)
  validation {
    condition     = length(var.alert_emails) > 0
    error_message = "alert_emails must hold at least one address."
  }
}
