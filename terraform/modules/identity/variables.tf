variable "project_id" {
  description = "The Google Cloud project that hosts the deployment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "authorized_domains" {
  description = "Domains allowed to complete sign-in flows (the customer console's, the password-reset page's)."
  type        = list(string)
  validation {
    condition     = alltrue([for d in var.authorized_domains : can(regex("^[a-z0-9.-]+$", d))])
    error_message = "authorized_domains must be bare host names such as app.example.com."
  }
}
