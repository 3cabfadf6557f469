variable "project_id" {
  description = "The Google Cloud project that hosts the deployment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "tenant_id" {
  description = "The tenant's id as onboarding takes it (lowercase here: it names a database and a key ring)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,48}$", var.tenant_id))
    error_message = "tenant_id must be 1-49 lowercase letters, digits and hyphens."
  }
}

variable "location" {
  description = "Location of the tenant's database and its key (they must match)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+[0-9]*(-[a-z]+[0-9]+)?$", var.location))
    error_message = "location must be a Firestore location such as europe-west3."
  }
}

variable "protection_level" {
  description = "SOFTWARE or HSM for the tenant's database key."
  type        = string
  default     = "HSM"
  validation {
    condition     = contains(["SOFTWARE", "HSM"], var.protection_level)
    error_message = "protection_level must be SOFTWARE or HSM."
  }
}

variable "rotation_days" {
  description = "Automatic rotation period of the tenant's database key, in days."
  type        = number
  default     = 90
  validation {
    condition     = var.rotation_days >= 1 && var.rotation_days <= 365
    error_message = "rotation_days must be between 1 and 365."
  }
}

variable "rules_file" {
  description = "Path of the firestore.rules file to release to the tenant's database."
  type        = string
  validation {
    condition     = endswith(var.rules_file, ".rules")
    error_message = "rules_file must name a .rules file."
  }
}

variable "function_service_accounts" {
  description = "Service account emails of the functions that read and write tenant data, by function."
  type        = map(string)
  validation {
    condition     = alltrue([for e in values(var.function_service_accounts) : endswith(e, ".iam.gserviceaccount.com")])
    error_message = "function_service_accounts must be service account emails."
  }
}
