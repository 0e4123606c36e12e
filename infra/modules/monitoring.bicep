// Log Analytics + workspace-based Application Insights. Local (instrumentation key)
// authentication is disabled: telemetry is accepted only with an Entra token, which
// the app obtains with its managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING).

param workspaceName string
param appInsightsName string
param location string
param tags object

@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
  }
}

output appInsightsName string = appInsights.name
// The connection string only locates the ingestion endpoint; with local auth
// disabled it grants nothing by itself.
output connectionString string = appInsights.properties.ConnectionString
