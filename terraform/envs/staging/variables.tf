variable "project_id" {
  description = "The Google Cloud project of this environment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "region" {
  description = "Region of the functions, buckets and keys."
  type        = string
  default     = "europe-west3"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a region such as europe-west3."
  }
}

variable "firestore_location" {
  description = "Firestore location of the platform database."
  type        = string
  default     = "europe-west3"
  validation {
    condition     = can(regex("^[a-z]+[0-9]*(-[a-z]+[0-9]+)?$", var.firestore_location))
    error_message = "firestore_location must be a Firestore location."
  }
}

variable "authorized_domains" {
  description = "Domains allowed to complete Identity Platform sign-in flows."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for d in var.authorized_domains : can(regex("^[a-z0-9.-]+$", d))])
    error_message = "authorized_domains must be bare host names."
  }
}

variable "alert_emails" {
  description = "Where this environment's alerts go."
  type        = list(string)
  validation {
    condition     = length(var.alert_emails) > 0
    error_message = "alert_emails must hold at least one address."
  }
}

variable "ops_invokers" {
  description = "Principals allowed to invoke the ops function (group:/user:/serviceAccount:)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for m in var.ops_invokers : can(regex("^(group|user|serviceAccount):", m))])
    error_message = "ops_invokers must be group:, user: or serviceAccount: members."
  }
}

variable "enterprise_tenants" {
  description = "Dedicated tenants, each with its own Firestore database and CMEK: tenant id => location."
  type        = map(string)
  default     = {}
  validation {
    condition     = alltrue([for id, loc in var.enterprise_tenants : can(regex("^[a-z0-9][a-z0-9-]{0,48}$", id)) && length(loc) > 0])
    error_message = "enterprise_tenants keys must be lowercase tenant ids and values locations."
  }
}

