// The one identity the Function App uses for everything: host storage, deployment
// package, app tables/queues, Key Vault and Application Insights ingestion.
// User-assigned so its grants exist before the app starts (no first-start race).

@description('Name of the user-assigned managed identity.')
param name string

param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
