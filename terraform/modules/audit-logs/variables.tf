variable "project_id" {
  description = "The Google Cloud project that hosts the deployment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "location" {
  description = "Location of the log bucket (global or a region)."
  type        = string
  default     = "global"
  validation {
    condition     = var.location == "global" || can(regex("^[a-z]+-[a-z]+[0-9]+$", var.location))
    error_message = "location must be global or a region."
  }
}

variable "retention_days" {
  description = "Days the audit log bucket keeps entries: at least 7 years (2557), at most Cloud Logging's 3650."
  type        = number
  validation {
    condition     = var.retention_days >= 2557 && var.retention_days <= 3650
    error_message = "retention_days must be between 2557 (7 years) and 3650."
  }
}

variable "locked" {
  description = "Lock the audit log bucket. IRREVERSIBLE: its retention can then never be shortened nor the bucket deleted."
  type        = bool
  default     = false
}
