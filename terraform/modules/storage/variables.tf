variable "project_id" {
  description = "The Google Cloud project that hosts the deployment; bucket names start with it."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "location" {
  description = "Bucket location (the functions' region or a dual/multi-region containing it)."
  type        = string
  validation {
    condition     = can(regex("^[A-Za-z]+[0-9]*(-[A-Za-z]+[0-9]+)?$", var.location))
    error_message = "location must be a Cloud Storage location such as europe-west3 or EU."
  }
}

variable "documents_kms_key" {
  description = "Default CMEK of the documents bucket (modules/kms documents_bucket_key)."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.documents_kms_key))
    error_message = "documents_kms_key must be projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

variable "documents_retention_days" {
  description = "Days an original or raw model response is kept before Cloud Storage deletes it."
  type        = number
  validation {
    condition     = var.documents_retention_days >= 1 && var.documents_retention_days <= 36500
    error_message = "documents_retention_days must be between 1 and 36500."
  }
}

variable "audit_retention_days" {
  description = "Bucket retention of the evidence export, in days; at least 7 years (2557 days)."
  type        = number
  validation {
    condition     = var.audit_retention_days >= 2557 && var.audit_retention_days <= 36500
    error_message = "audit_retention_days must be at least 2557 (7 years) and at most 36500."
  }
}

variable "lock_audit_retention" {
  description = "Lock the audit bucket's retention policy. IRREVERSIBLE: the period can then only grow and the bucket cannot be deleted before every object has aged out."
  type        = bool
  default     = false
}
