variable "project_id" {
  description = "The Google Cloud project that hosts the deployment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "alert_emails" {
  description = "Where alerts go (the on-call rotation's addresses)."
  type        = list(string)
  validation {
    condition     = length(var.alert_emails) > 0 && alltrue([for e in var.alert_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alert_emails must hold at least one email address."
  }
}

variable "seal_lag_minutes" {
  description = "Minutes without a completed seal pass before the seal-lag alert fires."
  type        = number
  default     = 30
  validation {
    condition     = var.seal_lag_minutes >= 10 && var.seal_lag_minutes <= 1440
    error_message = "seal_lag_minutes must be between 10 and 1440."
  }
}

variable "dead_letter_backlog_threshold" {
  description = "Dead letters waiting for the dead-letter worker (for 10 minutes) before alerting."
  type        = number
  default     = 0
  validation {
    condition     = var.dead_letter_backlog_threshold >= 0
    error_message = "dead_letter_backlog_threshold must not be negative."
  }
}

variable "kms_error_threshold" {
  description = "Failed Cloud KMS calls in 5 minutes before alerting."
  type        = number
  default     = 5
  validation {
    condition     = var.kms_error_threshold >= 0
    error_message = "kms_error_threshold must not be negative."
  }
}
