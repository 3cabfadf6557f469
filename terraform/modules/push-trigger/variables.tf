variable "project_id" {
  description = "The Google Cloud project that hosts the deployment."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id."
  }
}

variable "region" {
  description = "The function's region."
  type        = string
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Cloud Run region such as europe-west3."
  }
}

variable "function_name" {
  description = "The gen2 function (and its Cloud Run service) the subscription pushes to."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,62}$", var.function_name))
    error_message = "function_name must be a Cloud Run service name."
  }
}

variable "function_uri" {
  description = "The function's https URL: the push endpoint's base and the OIDC token's audience."
  type        = string
  validation {
    condition     = startswith(var.function_uri, "https://")
    error_message = "function_uri must be an https URL."
  }
}

variable "push_account_id" {
  description = "Account id of the push service account (6-30 characters)."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.push_account_id))
    error_message = "push_account_id must be a service account id."
  }
}

variable "subscription_name" {
  description = "The push subscription's name."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-_.~+%]{2,254}$", var.subscription_name))
    error_message = "subscription_name must be a Pub/Sub subscription name."
  }
}

variable "topic_name" {
  description = "The topic's short name, which the push path carries."
  type        = string
  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-_.~+%]{2,254}$", var.topic_name))
    error_message = "topic_name must be a Pub/Sub topic name."
  }
}

variable "topic_id" {
  description = "The topic's id, projects/P/topics/T."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/topics/[^/]+$", var.topic_id))
    error_message = "topic_id must be projects/P/topics/T."
  }
}

variable "dead_letter_topic_id" {
  description = "Where messages go after max_delivery_attempts failed deliveries."
  type        = string
  validation {
    condition     = can(regex("^projects/[^/]+/topics/[^/]+$", var.dead_letter_topic_id))
    error_message = "dead_letter_topic_id must be projects/P/topics/T."
  }
}

variable "max_delivery_attempts" {
  description = "Deliveries before a message is dead-lettered (Pub/Sub allows 5-100)."
  type        = number
  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "ack_deadline_seconds" {
  description = "How long Pub/Sub waits for the function's answer; at least the function's timeout."
  type        = number
  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "minimum_backoff" {
  description = "First redelivery delay, such as 10s."
  type        = string
  validation {
    condition     = can(regex("^[0-9]+s$", var.minimum_backoff))
    error_message = "minimum_backoff must be a duration in seconds such as 10s."
  }
}

variable "pubsub_service_agent" {
  description = "Email of the project's Pub/Sub service agent."
  type        = string
  validation {
    condition     = endswith(var.pubsub_service_agent, "@gcp-sa-pubsub.iam.gserviceaccount.com")
    error_message = "pubsub_service_agent must be the Pub/Sub service agent's email."
  }
}
