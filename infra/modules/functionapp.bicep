// Flex Consumption (FC1, Linux, Node.js 22) Function App running as the user-assigned
// identity, and its application settings. The settings are a child resource of the
// site because two of them (GRAPH_NOTIFICATION_URL, OUTBOUND_IP_ADDRESSES) come from
// properties Azure assigns to the site when it is created.

param name string
param planName string
param location string
param tags object

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string
@description('Client id of that identity (tells the SDKs and the host which identity to use).')
param identityClientId string

param blobServiceUri string
param queueServiceUri string
param tableServiceUri string
@description('URL of the blob container that holds the deployment package.')
param deploymentContainerUrl string

param appInsightsConnectionString string
param keyVaultUri string

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int
@allowed([512, 2048, 4096])
param instanceMemoryMB int

// Connect Sync settings (shared/config.ts documents each one).
param vantagepointBaseUrl string
param vantagepointAuthMode string
param vantagepointDatabase string
param vantagepointClientId string
param vantagepointServiceUsername string
param connectAdminRoles string
param connectAdminUsers string
param callerCacheSeconds int
param vantagepointWhoamiPath string
param sessionSigningKeysSecretName string
param sessionLifetimeMinutes int
param signInMaxFailures int
param signInMaxFailuresPerAddress int
param signInLockoutSeconds int
param connectFormKeySecretName string
param clientStateKeysSecretName string
param vantagepointClientSecretName string
param vantagepointServicePasswordSecretName string
param secretRefreshSeconds int
@description('Overrides the allow-list addresses (e.g. a NAT gateway\'s); empty publishes the site\'s possible outbound addresses.')
param outboundIpAddressesOverride string
param graphTenantId string
param graphClientId string
param graphClientSecretName string
param graphResources string
param notificationSender string
param subscriptionLifetimeMinutes int
param subscriptionRenewalMarginMinutes int
param graphWriteLimit int
param graphWriteWindowSeconds int
param reconcileSchedule string
param reconcileTimeBudgetSeconds int
param reconcileConcurrency int
param reconcileMaxFailures int
@description('Outlook category that marks an event for Vantagepoint.')
param syncCategory string
@description('Events that ended more than this many days ago are not synced.')
param syncWindowDays int
@description('How far ahead the calendar catch-up looks.')
param syncHorizonDays int
@description('Vantagepoint activity type (CFGActivityType, a Calendar type) of synced meetings.')
param activityType string
param adminPageFrameAncestors string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  // azd finds the deployment target of service "api" (azure.yaml) by this tag.
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

var baseUrl = 'https://${site.properties.defaultHostName}'
var graphNotificationUrl = '${baseUrl}/api/notifications/graph'
// possibleOutboundIpAddresses is the superset the app may ever use from its current
// scale unit, which is what an allow list needs (outboundIpAddresses is only today's).
var outboundIpAddresses = empty(outboundIpAddressesOverride) ? site.properties.possibleOutboundIpAddresses : outboundIpAddressesOverride

// Exactly what the code reads plus the platform's identity-based connections; the
// development-only settings (connection string, raw secrets, FUNCTIONS_WORKER_RUNTIME)
// are deliberately absent. test/infra compares this list with local.settings.sample.json.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    // Platform: host storage through the managed identity (no connection string).
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: blobServiceUri
    AzureWebJobsStorage__queueServiceUri: queueServiceUri
    AzureWebJobsStorage__tableServiceUri: tableServiceUri
    // Platform: telemetry with an Entra token, as Application Insights has local auth disabled.
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

    CONNECT_ENVIRONMENT: 'production'
    VANTAGEPOINT_BASE_URL: vantagepointBaseUrl
    VANTAGEPOINT_AUTH_MODE: vantagepointAuthMode
    VANTAGEPOINT_DATABASE: vantagepointDatabase
    VANTAGEPOINT_CLIENT_ID: vantagepointClientId
    VANTAGEPOINT_SERVICE_USERNAME: vantagepointServiceUsername
    CONNECT_ADMIN_ROLES: connectAdminRoles
    CONNECT_ADMIN_USERS: connectAdminUsers
    CALLER_CACHE_SECONDS: string(callerCacheSeconds)
    VANTAGEPOINT_WHOAMI_PATH: vantagepointWhoamiPath
    SESSION_SIGNING_KEYS_SECRET_NAME: sessionSigningKeysSecretName
    SESSION_LIFETIME_MINUTES: string(sessionLifetimeMinutes)
    SIGN_IN_MAX_FAILURES: string(signInMaxFailures)
    SIGN_IN_MAX_FAILURES_PER_ADDRESS: string(signInMaxFailuresPerAddress)
    SIGN_IN_LOCKOUT_SECONDS: string(signInLockoutSeconds)
    CONNECT_FORM_KEY_SECRET_NAME: connectFormKeySecretName
    CLIENT_STATE_KEYS_SECRET_NAME: clientStateKeysSecretName
    KEY_VAULT_URL: keyVaultUri
    VANTAGEPOINT_CLIENT_SECRET_NAME: vantagepointClientSecretName
    VANTAGEPOINT_SERVICE_PASSWORD_SECRET_NAME: vantagepointServicePasswordSecretName
    SECRET_REFRESH_SECONDS: string(secretRefreshSeconds)
    OUTBOUND_IP_ADDRESSES: outboundIpAddresses
    GRAPH_BASE_URL: 'https://graph.microsoft.com/v1.0'
    GRAPH_AUTHORITY_HOST: environment().authentication.loginEndpoint
    GRAPH_TENANT_ID: graphTenantId
    GRAPH_CLIENT_ID: graphClientId
    GRAPH_CLIENT_SECRET_NAME: graphClientSecretName
    GRAPH_NOTIFICATION_URL: graphNotificationUrl
    GRAPH_RESOURCES: graphResources
    SUBSCRIPTION_LIFETIME_MINUTES: string(subscriptionLifetimeMinutes)
    SUBSCRIPTION_RENEWAL_MARGIN_MINUTES: string(subscriptionRenewalMarginMinutes)
    GRAPH_WRITE_LIMIT: string(graphWriteLimit)
    GRAPH_WRITE_WINDOW_SECONDS: string(graphWriteWindowSeconds)
    NOTIFICATION_SENDER: notificationSender
    RECONCILE_SCHEDULE: reconcileSchedule
    RECONCILE_TIME_BUDGET_SECONDS: string(reconcileTimeBudgetSeconds)
    RECONCILE_CONCURRENCY: string(reconcileConcurrency)
    RECONCILE_MAX_FAILURES: string(reconcileMaxFailures)
    SYNC_CATEGORY: syncCategory
    SYNC_WINDOW_DAYS: string(syncWindowDays)
    SYNC_HORIZON_DAYS: string(syncHorizonDays)
    ACTIVITY_TYPE: activityType
    ADMIN_PAGE_FRAME_ANCESTORS: adminPageFrameAncestors
  }
}

output name string = site.name
output baseUrl string = baseUrl
output graphNotificationUrl string = graphNotificationUrl
output outboundIpAddresses string = outboundIpAddresses
