// Connect Sync: the whole system in one resource group. Native resources only (no
// registry modules) so the files compile offline. See docs/DEPLOY.md.
targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('Environment name (azd sets it); part of every resource name.')
param environmentName string

@description('Azure region of every resource (must offer Flex Consumption).')
param location string = resourceGroup().location

// --- Vantagepoint -------------------------------------------------------------

@description('Public HTTPS base URL of Vantagepoint, e.g. https://acme.deltekfirst.com/acme')
param vantagepointBaseUrl string

@allowed(['vantagepoint', 'windows'])
@description('Vantagepoint authentication mode; `windows` is reported as an unmet prerequisite (not supported).')
param vantagepointAuthMode string = 'vantagepoint'

@description('Vantagepoint database name sent with token requests (empty for the default database).')
param vantagepointDatabase string = ''

@description('Client ID from Vantagepoint API Authorization.')
param vantagepointClientId string

@description('Vantagepoint user the service acts as.')
param vantagepointServiceUsername string

@description('Comma-separated Vantagepoint security roles that grant Connect Administration.')
param connectAdminRoles string = 'ADMIN'

@description('Comma-separated Vantagepoint usernames that are Connect administrators where user records carry no Role (Deltek\'s documented shape).')
param connectAdminUsers string = ''

@minValue(1)
@maxValue(300)
@description('How long a caller check is trusted; an administrator who loses the role loses access within it.')
param callerCacheSeconds int = 60

@description('Vantagepoint-bearer mode (unverified; empty = off): the path under /api that answers the caller\'s own user record.')
param vantagepointWhoamiPath string = ''

@minValue(5)
@maxValue(720)
param sessionLifetimeMinutes int = 60

@minValue(1)
param signInMaxFailures int = 5

@minValue(1)
param signInMaxFailuresPerAddress int = 20

@minValue(1)
param signInLockoutSeconds int = 900

@description('Admin session signing keys: one, or "new,old" during a rotation, each at least 32 characters (e.g. openssl rand -base64 48). Empty keeps the vault\'s current version.')
@secure()
param sessionSigningKeys string = ''

@description('Keys the Graph notifications\' clientState is signed with (HMAC-SHA256): one, or "new,old" during a rotation, each at least 32 characters (e.g. openssl rand -base64 48). Empty keeps the vault\'s current version.')
@secure()
param clientStateKeys string = ''

@description('Key Vault secret name of the Vantagepoint admin form\'s key; empty turns the form-key mode off.')
param connectFormKeySecretName string = 'connect-form-key'

@description('The Vantagepoint admin form\'s key (server to server). Empty keeps the vault\'s current version.')
@secure()
param connectFormKey string = ''

@description('Client secret from Vantagepoint API Authorization. Empty keeps the vault\'s current version.')
@secure()
param vantagepointClientSecret string = ''

@description('Password of the Vantagepoint service user. Empty keeps the vault\'s current version.')
@secure()
param vantagepointServicePassword string = ''

@minValue(1)
@description('How often (seconds) the app checks Key Vault for a new secret version.')
param secretRefreshSeconds int = 300

@description('Addresses to publish for the Vantagepoint allow list (comma-separated, e.g. a NAT gateway\'s). Empty publishes the Function App\'s possible outbound addresses.')
param outboundIpAddresses string = ''

// --- Microsoft Graph ------------------------------------------------------------

@description('Entra tenant of the mailboxes.')
param graphTenantId string = tenant().tenantId

@description('Application (client) id of the Graph app registration.')
param graphClientId string

@description('Key Vault secret name of the Graph client secret; empty makes the app use its managed identity for Graph.')
param graphClientSecretName string = 'graph-client-secret'

@description('Client secret of the Graph app registration. Empty keeps the vault\'s current version.')
@secure()
param graphClientSecret string = ''

@description('Comma-separated subset of events,contacts,messages.')
param graphResources string = 'events,contacts,messages'

@description('Mailbox (UPN) that notification emails are sent from (Graph sendMail, application permission Mail.Send). Empty turns notification emails off.')
param notificationSender string = ''

@minValue(45)
@maxValue(10080)
param subscriptionLifetimeMinutes int = 4320

@minValue(5)
@maxValue(10000)
param subscriptionRenewalMarginMinutes int = 1440

@minValue(1)
param graphWriteLimit int = 500

@minValue(1)
param graphWriteWindowSeconds int = 20

// --- Reconciler -------------------------------------------------------------------

@description('6-field NCRONTAB schedule of the reconciler timer.')
param reconcileSchedule string = '0 */5 * * * *'

@minValue(1)
param reconcileTimeBudgetSeconds int = 240

@minValue(1)
param reconcileConcurrency int = 32

@minValue(1)
param reconcileMaxFailures int = 10
param syncCategory string = 'Vantagepoint'
param syncWindowDays int = 14
param syncHorizonDays int = 365
param activityType string = 'Meeting'

@description('Origins (besides the app) that may frame the admin page, e.g. Vantagepoint\'s https://acme.deltekfirst.com.')
param adminPageFrameAncestors string = ''

// --- Hosting ------------------------------------------------------------------------

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

var token = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
  application: 'connect-sync'
}
var names = {
  identity: 'id-connect-${token}'
  workspace: 'log-connect-${token}'
  appInsights: 'appi-connect-${token}'
  storage: 'stconnect${token}'
  keyVault: 'kv-connect-${token}'
  plan: 'plan-connect-${token}'
  functionApp: 'func-connect-${token}'
  deploymentContainer: 'deployment-package'
}
// Keep in step with the *_SECRET_NAME defaults in shared/config.ts.
var vantagepointClientSecretName = 'vantagepoint-client-secret'
var vantagepointServicePasswordSecretName = 'vantagepoint-service-password'
var sessionSigningKeysSecretName = 'session-signing-keys'
var clientStateKeysSecretName = 'client-state-keys'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: tags
    deploymentContainerName: names.deploymentContainer
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: names.keyVault
    location: location
    tags: tags
    vantagepointClientSecretName: vantagepointClientSecretName
    vantagepointClientSecret: vantagepointClientSecret
    vantagepointServicePasswordSecretName: vantagepointServicePasswordSecretName
    vantagepointServicePassword: vantagepointServicePassword
    graphClientSecretName: graphClientSecretName
    graphClientSecret: graphClientSecret
    sessionSigningKeysSecretName: sessionSigningKeysSecretName
    sessionSigningKeys: sessionSigningKeys
    clientStateKeysSecretName: clientStateKeysSecretName
    clientStateKeys: clientStateKeys
    connectFormKeySecretName: connectFormKeySecretName
    connectFormKey: connectFormKey
  }
}

module access 'modules/access.bicep' = {
  name: 'access'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  // The host starts as soon as the settings land: its grants must exist first.
  dependsOn: [access]
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobServiceUri: storage.outputs.blobServiceUri
    queueServiceUri: storage.outputs.queueServiceUri
    tableServiceUri: storage.outputs.tableServiceUri
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsConnectionString: monitoring.outputs.connectionString
    keyVaultUri: keyVault.outputs.uri
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    vantagepointBaseUrl: vantagepointBaseUrl
    vantagepointAuthMode: vantagepointAuthMode
    vantagepointDatabase: vantagepointDatabase
    vantagepointClientId: vantagepointClientId
    vantagepointServiceUsername: vantagepointServiceUsername
    connectAdminRoles: connectAdminRoles
    connectAdminUsers: connectAdminUsers
    callerCacheSeconds: callerCacheSeconds
    vantagepointWhoamiPath: vantagepointWhoamiPath
    sessionSigningKeysSecretName: sessionSigningKeysSecretName
    sessionLifetimeMinutes: sessionLifetimeMinutes
    signInMaxFailures: signInMaxFailures
    signInMaxFailuresPerAddress: signInMaxFailuresPerAddress
    signInLockoutSeconds: signInLockoutSeconds
    connectFormKeySecretName: connectFormKeySecretName
    clientStateKeysSecretName: clientStateKeysSecretName
    vantagepointClientSecretName: vantagepointClientSecretName
    vantagepointServicePasswordSecretName: vantagepointServicePasswordSecretName
    secretRefreshSeconds: secretRefreshSeconds
    outboundIpAddressesOverride: outboundIpAddresses
    graphTenantId: graphTenantId
    graphClientId: graphClientId
    graphClientSecretName: graphClientSecretName
    graphResources: graphResources
    notificationSender: notificationSender
    subscriptionLifetimeMinutes: subscriptionLifetimeMinutes
    subscriptionRenewalMarginMinutes: subscriptionRenewalMarginMinutes
    graphWriteLimit: graphWriteLimit
    graphWriteWindowSeconds: graphWriteWindowSeconds
    reconcileSchedule: reconcileSchedule
    reconcileTimeBudgetSeconds: reconcileTimeBudgetSeconds
    reconcileConcurrency: reconcileConcurrency
    reconcileMaxFailures: reconcileMaxFailures
    syncCategory: syncCategory
    syncWindowDays: syncWindowDays
    syncHorizonDays: syncHorizonDays
    activityType: activityType
    adminPageFrameAncestors: adminPageFrameAncestors
  }
}

// azd stores outputs as environment values (`azd env get-values`).
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_BASE_URL string = functionApp.outputs.baseUrl
output GRAPH_NOTIFICATION_URL string = functionApp.outputs.graphNotificationUrl
output OUTBOUND_IP_ADDRESSES string = functionApp.outputs.outboundIpAddresses
output KEY_VAULT_NAME string = keyVault.outputs.name
output KEY_VAULT_URL string = keyVault.outputs.uri
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
// What the Graph app registration must be granted (application permissions, admin consent):
// reading the mailboxes' change notifications, and Mail.Send for the notification emails.
output GRAPH_APPLICATION_PERMISSIONS string = 'Calendars.Read,Contacts.Read,Mail.Read,Mail.Send'
output NOTIFICATION_SENDER string = notificationSender
