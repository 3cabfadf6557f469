# People sign in through Identity Platform: platform operators at the project level (their ID
# token carries `platform_role: operator`), each customer's people in its own Identity Platform
# tenant (onboarding's `identityTenantId`), which is why multi-tenancy is on.
resource "google_firebase_project" "this" {
  project = var.project_id
}

resource "google_identity_platform_config" "this" {
  project = var.project_id

  multi_tenant {
    allow_tenants = true
  }

  sign_in {
    allow_duplicate_emails = false
    email {
      enabled           = true
      password_required = true
    }
  }

  # Nobody signs in anonymously to an evidence platform.
  autodelete_anonymous_users = true
  authorized_domains         = var.authorized_domains

  depends_on = [google_firebase_project.this]
}
