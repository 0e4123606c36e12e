// Key Vault in RBAC mode holding the credentials the app reads at run time through
// its Key Vault client (KEY_VAULT_URL). Secret values arrive as @secure() parameters
// and never appear in an output. The secret names come from the caller, which also
// hands them to the Function App settings (*_SECRET_NAME).
//
// Every secret is written only when its parameter is non-empty: a later deployment
// without the value leaves the current version alone, so redeploying never rolls
// back a secret an administrator rotated with `az keyvault secret set`.

param name string
param location string
param tags object

param vantagepointClientSecretName string
param vantagepointServicePasswordSecretName string
param graphClientSecretName string
param sessionSigningKeysSecretName string
param connectFormKeySecretName string
param clientStateKeysSecretName string

@description('Vantagepoint API Authorization client secret; empty leaves the vault\'s current version.')
@secure()
param vantagepointClientSecret string = ''

@description('Password of the Vantagepoint service account; empty leaves the vault\'s current version.')
@secure()
param vantagepointServicePassword string = ''

@description('Client secret of the Graph app registration; empty leaves the vault\'s current version.')
@secure()
param graphClientSecret string = ''

@description('Admin session signing keys ("new,old" during a rotation); empty leaves the vault\'s current version.')
@secure()
param sessionSigningKeys string = ''

@description('Graph notifications\' clientState keys ("new,old" during a rotation); empty leaves the vault\'s current version.')
@secure()
param clientStateKeys string = ''

@description('The Vantagepoint admin form\'s key; empty leaves the vault\'s current version.')
@secure()
param connectFormKey string = ''

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource vantagepointClientSecretEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(vantagepointClientSecret)) {
  parent: vault
  name: vantagepointClientSecretName
  properties: {
    value: vantagepointClientSecret
    contentType: 'text/plain'
  }
}

resource vantagepointServicePasswordEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(vantagepointServicePassword)) {
  parent: vault
  name: vantagepointServicePasswordSecretName
  properties: {
    value: vantagepointServicePassword
    contentType: 'text/plain'
  }
}

resource graphClientSecretEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(graphClientSecret) && !empty(graphClientSecretName)) {
  parent: vault
  name: graphClientSecretName
  properties: {
    value: graphClientSecret
    contentType: 'text/plain'
  }
}

resource sessionSigningKeysEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(sessionSigningKeys)) {
  parent: vault
  name: sessionSigningKeysSecretName
  properties: {
    value: sessionSigningKeys
    contentType: 'text/plain'
  }
}

resource clientStateKeysEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(clientStateKeys)) {
  parent: vault
  name: clientStateKeysSecretName
  properties: {
    value: clientStateKeys
    contentType: 'text/plain'
  }
}

resource connectFormKeyEntry 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(connectFormKey) && !empty(connectFormKeySecretName)) {
  parent: vault
  name: connectFormKeySecretName
  properties: {
    value: connectFormKey
    contentType: 'text/plain'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
