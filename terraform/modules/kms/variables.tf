variable "project_id" {
  description = "The Google Cloud project that hosts the deployment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "location" {
  description = "Cloud KMS location of the key rings (the functions' region or its multi-region)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+[0-9]*(-[a-z]+[0-9]+)?$", var.location))
    error_message = "location must be a Cloud KMS location such as europe-west3 or europe."
  }
}

variable "protection_level" {
  description = "SOFTWARE or HSM for the platform's keys (production: HSM)."
  type        = string
  validation {
    condition     = contains(["SOFTWARE", "HSM"], var.protection_level)
    error_message = "protection_level must be SOFTWARE or HSM."
  }
}

variable "rotation_days" {
  description = "Automatic rotation period of the symmetric keys Terraform creates, in days."
  type        = number
  default     = 90
  validation {
    condition     = var.rotation_days >= 1 && var.rotation_days <= 365
    error_message = "rotation_days must be between 1 and 365."
  }
}
