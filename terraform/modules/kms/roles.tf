# Custom roles for what no predefined role grants narrowly enough. The predefined role that can
# create keys (roles/cloudkms.admin) can also change who may use them (setIamPolicy): never bound.

# Onboarding a tenant creates its KEK in the platform ring (lifecycle/onboarding.ts). Bound on the
# platform key ring to the ops function's account only (functions/fn-ops.tf).
resource "google_project_iam_custom_role" "tenant_key_creator" {
  project     = var.project_id
  role_id     = "provenantTenantKeyCreator"
  title       = "Provenant tenant KEK creator"
  description = "Create and read tenant key encryption keys in the platform key ring."
  permissions = [
    "cloudkms.cryptoKeys.create",
    "cloudkms.cryptoKeys.get",
    "cloudkms.keyRings.get",
  ]
}

# onboarding calls createKeyRing and treats ALREADY_EXISTS as success (crypto/kms.ts
# ensureKeyRing); Cloud KMS checks the create permission on the parent location before it looks
# for the ring, so the caller needs this one permission at project level. Nothing else.
resource "google_project_iam_custom_role" "key_ring_ensurer" {
  project     = var.project_id
  role_id     = "provenantKeyRingEnsurer"
  title       = "Provenant key ring ensurer"
  description = "Lets onboarding's idempotent createKeyRing reach ALREADY_EXISTS instead of PERMISSION_DENIED."
  permissions = ["cloudkms.keyRings.create"]
}

# KEK lifecycle: rotation (new version, primary, disable the old ones), CMEK registration
# (disable the platform KEK's versions) and offboarding (destroy every version).
resource "google_project_iam_custom_role" "tenant_key_lifecycle" {
  project     = var.project_id
  role_id     = "provenantTenantKeyLifecycle"
  title       = "Provenant tenant KEK lifecycle"
  description = "Rotate, disable and destroy versions of tenant key encryption keys."
  permissions = [
    "cloudkms.cryptoKeyVersions.create",
    "cloudkms.cryptoKeyVersions.destroy",
    "cloudkms.cryptoKeyVersions.get",
    "cloudkms.cryptoKeyVersions.list",
    "cloudkms.cryptoKeyVersions.update",
    "cloudkms.cryptoKeys.get",
    "cloudkms.cryptoKeys.update",
  ]
}
