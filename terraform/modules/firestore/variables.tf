variable "project_id" {
  description = "The Google Cloud project that hosts the database."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "database_id" {
  description = "`(default)` for the platform's database, or a dedicated tenant's database id."
  type        = string
  default     = "(default)"
  validation {
    condition     = var.database_id == "(default)" || can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.database_id))
    error_message = "database_id must be (default) or 4-63 lowercase letters, digits and hyphens starting with a letter."
  }
}

variable "location_id" {
  description = "Firestore location (a region such as europe-west3 or a multi-region such as eur3); fixed once created."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+[0-9]*(-[a-z]+[0-9]+)?$", var.location_id))
    error_message = "location_id must be a Firestore region (europe-west3) or multi-region (eur3, nam5)."
  }
}

variable "cmek_key_name" {
  description = "Cloud KMS key that encrypts the database (dedicated tenants); null for Google-managed encryption."
  type        = string
  default     = null
  validation {
    condition     = var.cmek_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.cmek_key_name))
    error_message = "cmek_key_name must be projects/P/locations/L/keyRings/R/cryptoKeys/K."
  }
}

variable "rules_file" {
  description = "Path of the firestore.rules file to release (the repository's)."
  type        = string
  validation {
    condition     = endswith(var.rules_file, ".rules")
    error_message = "rules_file must name a .rules file."
  }
}
