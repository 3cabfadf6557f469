# The deployment lives here, one file per function or concern (its own issue). Pinned so that
# `terraform init` on an operator's machine resolves the same providers CI's policy tests read.
terraform {
  required_version = ">= 1.11"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.0"
    }
  }
}
