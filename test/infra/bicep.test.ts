import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import Parser from 'tree-sitter';
import { settingsSchema } from '../../shared/config';
import { QUEUES, TABLES } from '../../shared/functionRegistry';

// tree-sitter-bicep ships a prebuilt parser but its typings do not match tree-sitter's Language.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Bicep = require('tree-sitter-bicep') as Parser.Language;

type Node = Parser.SyntaxNode;

const ROOT = resolve(__dirname, '../..');
const INFRA = join(ROOT, 'infra');

/** Settings in local.settings.sample.json that exist only for local development and are NOT set in Azure. */
const DEV_ONLY_SETTINGS = [
  'FUNCTIONS_WORKER_RUNTIME', // Flex Consumption sets the runtime through functionAppConfig.runtime
  'AzureWebJobsStorage', // Azure uses the identity-based AzureWebJobsStorage__* settings instead
  'VANTAGEPOINT_CLIENT_SECRET', // raw secrets: Azure reads them from Key Vault
  'VANTAGEPOINT_SERVICE_PASSWORD',
  'GRAPH_CLIENT_SECRET',
  'SESSION_SIGNING_KEYS',
  'CONNECT_FORM_KEY',
  'CLIENT_STATE_KEYS',
];

/** Settings the Functions platform needs in Azure beyond what local.settings.sample.json lists. */
const PLATFORM_SETTINGS = [
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__tableServiceUri',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
];

const ROLE = {
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
};

const SECRET_PARAMS = ['vantagepointClientSecret', 'vantagepointServicePassword', 'graphClientSecret', 'sessionSigningKeys', 'connectFormKey', 'clientStateKeys'];

// ---------------------------------------------------------------- syntax tree access

interface BicepFile {
  readonly path: string; // relative to infra/
  readonly root: Node;
}

function bicepPaths(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) return bicepPaths(full);
    return entry.name.endsWith('.bicep') ? [full] : [];
  });
}

function parseBicep(fullPath: string): BicepFile {
  const parser = new Parser();
  parser.setLanguage(Bicep);
  return { path: relative(INFRA, fullPath), root: parser.parse(readFileSync(fullPath, 'utf8')).rootNode };
}

function allNodes(node: Node): Node[] {
  return [node, ...node.children.flatMap(allNodes)];
}

const withoutComments = (nodes: Node[]): Node[] => nodes.filter((n) => n.type !== 'comment');

function declarations(file: BicepFile, type: string): Node[] {
  return file.root.namedChildren.filter((n) => n.type === type);
}

function declName(decl: Node): string {
  const id = decl.namedChildren.find((n) => n.type === 'identifier');
  if (!id) throw new Error(`declaration without a name at line ${decl.startPosition.row + 1}`);
  return id.text;
}

/** The literal text of a string without interpolation; undefined for anything else. */
function literal(node: Node | undefined): string | undefined {
  if (!node || node.type !== 'string' || node.namedChildren.some((c) => c.type === 'interpolation')) return undefined;
  return node.namedChildren.map((c) => c.text).join('');
}

function propertyKey(prop: Node): string {
  const key = prop.namedChildren[0];
  return key ? (literal(key) ?? key.text) : '';
}

function properties(obj: Node): Node[] {
  return obj.namedChildren.filter((n) => n.type === 'object_property');
}

/** The value of `path` (dot-separated) inside an object literal; keys match case-insensitively (ARM does). */
function prop(obj: Node | undefined, path: string): Node | undefined {
  return path.split('.').reduce<Node | undefined>((current, key) => {
    if (!current || current.type !== 'object') return undefined;
    const found = properties(current).find((p) => propertyKey(p).toLowerCase() === key.toLowerCase());
    return found ? withoutComments(found.namedChildren)[1] : undefined;
  }, obj);
}

interface Resource {
  readonly file: BicepFile;
  readonly symbol: string;
  readonly type: string; // without the API version
  readonly existing: boolean;
  readonly body: Node;
  readonly loop?: { readonly variable: string; readonly iterable: Node };
}

function toResource(file: BicepFile, decl: Node): Resource {
  const typeString = literal(decl.namedChildren.find((n) => n.type === 'string'));
  const value = withoutComments(decl.namedChildren).at(-1);
  if (!typeString || !value) throw new Error(`${file.path}:${decl.startPosition.row + 1}: unreadable resource`);
  const base = { file, symbol: declName(decl), type: typeString.split('@')[0] ?? '', existing: decl.children.some((c) => c.type === 'existing') };
  if (value.type === 'for_statement') {
    const [variable, iterable, body] = withoutComments(value.namedChildren);
    if (!variable || !iterable || !body) throw new Error(`${file.path}: unreadable loop`);
    return { ...base, body: bodyOf(body), loop: { variable: variable.text, iterable } };
  }
  return { ...base, body: bodyOf(value) };
}

/** `{...}` or `if (cond) {...}` → the object. */
function bodyOf(node: Node): Node {
  const obj = node.type === 'object' ? node : node.namedChildren.find((n) => n.type === 'object');
  if (!obj) throw new Error(`no object body at line ${node.startPosition.row + 1}`);
  return obj;
}

function decoratorNames(decl: Node): string[] {
  const prev = decl.previousNamedSibling;
  if (!prev || prev.type !== 'decorators') return [];
  return prev.namedChildren.map((d) => d.namedChildren[0]?.namedChildren[0]?.text ?? '');
}

function identifiersIn(node: Node): Set<string> {
  return new Set(allNodes(node).filter((n) => n.type === 'identifier').map((n) => n.text));
}

/**
 * Evaluates the small subset of expressions the role assignments use: string literals,
 * variables, `var.member`, arrays, loop variables and subscriptionResourceId(type, id).
 */
function evaluate(file: BicepFile, node: Node, loop?: Resource['loop']): string[] {
  switch (node.type) {
    case 'string': {
      const value = literal(node);
      if (value === undefined) throw new Error(`${file.path}: interpolated string where a constant is expected`);
      return [value];
    }
    case 'array':
      return withoutComments(node.namedChildren).flatMap((n) => evaluate(file, n, loop));
    case 'identifier':
      if (loop && node.text === loop.variable) return evaluate(file, loop.iterable);
      return evaluate(file, variableValue(file, node.text));
    case 'member_expression': {
      const [object, member] = node.namedChildren;
      const target = object && member ? prop(variableValue(file, object.text), member.text) : undefined;
      if (!target) throw new Error(`${file.path}: cannot resolve ${node.text}`);
      return evaluate(file, target, loop);
    }
    case 'call_expression': {
      const [fn, args] = node.namedChildren;
      const last = args ? withoutComments(args.namedChildren).at(-1) : undefined;
      if (fn?.text !== 'subscriptionResourceId' || !last) throw new Error(`${file.path}: unexpected call ${node.text}`);
      return evaluate(file, last, loop);
    }
    default:
      throw new Error(`${file.path}: cannot evaluate ${node.type} ${node.text}`);
  }
}

function variableValue(file: BicepFile, name: string): Node {
  const decl = declarations(file, 'variable_declaration').find((d) => declName(d) === name);
  const value = decl ? withoutComments(decl.namedChildren).at(-1) : undefined;
  if (!value) throw new Error(`${file.path}: no variable ${name}`);
  return value;
}

// ---------------------------------------------------------------- the infrastructure

const files = bicepPaths(INFRA).map(parseBicep);
const fileAt = (path: string): BicepFile => {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`missing infra/${path}`);
  return file;
};
const resources = files.flatMap((f) => declarations(f, 'resource_declaration').map((d) => toResource(f, d)));
const declared = resources.filter((r) => !r.existing);
const onlyResource = (type: string): Resource => {
  const found = declared.filter((r) => r.type === type);
  expect(found).toHaveLength(1);
  return found[0] as Resource;
};
const paramsOf = (file: BicepFile): Node[] => declarations(file, 'parameter_declaration');
const mainFile = fileAt('main.bicep');

describe('infra/**/*.bicep syntax', () => {
  it('finds the main template and its modules', () => {
    expect(files.map((f) => f.path)).toEqual(expect.arrayContaining(['main.bicep', join('modules', 'functionapp.bicep')]));
  });

  it.each(files.map((f) => [f.path, f] as const))('%s parses without ERROR or MISSING nodes', (_path, file) => {
    const problems = allNodes(file.root)
      .filter((n) => n.type === 'ERROR' || n.isMissing)
      .map((n) => `line ${n.startPosition.row + 1}:${n.startPosition.column + 1} ${n.isMissing ? `missing ${n.type}` : `error near "${n.text.slice(0, 40)}"`}`);
    expect(problems).toEqual([]);
  });

  it('uses native resources only: every module is a local file, nothing from a registry', () => {
    const modulePaths = files.flatMap((f) =>
      declarations(f, 'module_declaration').map((d) => ({ from: f.path, path: literal(d.namedChildren.find((n) => n.type === 'string')) ?? '' })),
    );
    expect(modulePaths.length).toBeGreaterThan(0);
    for (const { from, path } of modulePaths) {
      expect(path).toMatch(/^[\w./-]+\.bicep$/);
      expect(files.map((f) => f.path)).toContain(join(dirname(from), path));
    }
  });
});

describe('resources', () => {
  it('declares exactly the resource types of the system', () => {
    expect([...new Set(declared.map((r) => r.type))].sort()).toEqual(
      [
        'Microsoft.Authorization/roleAssignments',
        'Microsoft.Insights/components',
        'Microsoft.KeyVault/vaults',
        'Microsoft.KeyVault/vaults/secrets',
        'Microsoft.ManagedIdentity/userAssignedIdentities',
        'Microsoft.OperationalInsights/workspaces',
        'Microsoft.Storage/storageAccounts',
        'Microsoft.Storage/storageAccounts/blobServices',
        'Microsoft.Storage/storageAccounts/blobServices/containers',
        'Microsoft.Storage/storageAccounts/queueServices',
        'Microsoft.Storage/storageAccounts/queueServices/queues',
        'Microsoft.Storage/storageAccounts/tableServices',
        'Microsoft.Storage/storageAccounts/tableServices/tables',
        'Microsoft.Web/serverfarms',
        'Microsoft.Web/sites',
        'Microsoft.Web/sites/config',
      ].sort(),
    );
  });

  it('declares every table in TABLES and every queue in QUEUES with its -poison queue', () => {
    const namesOf = (type: string): string[] =>
      declared
        .filter((r) => r.type === type)
        .flatMap((r) => {
          const name = prop(r.body, 'name');
          if (!name) return [];
          if (!r.loop) return evaluate(r.file, name);
          const suffix = name.type === 'string' ? name.namedChildren.filter((c) => c.type === 'string_content').map((c) => c.text).join('') : '';
          return evaluate(r.file, r.loop.iterable).map((item) => item + suffix);
        });
    expect(namesOf('Microsoft.Storage/storageAccounts/tableServices/tables').sort()).toEqual(Object.values(TABLES).sort());
    const queues = Object.values(QUEUES);
    expect(namesOf('Microsoft.Storage/storageAccounts/queueServices/queues').sort()).toEqual([...queues, ...queues.map((q) => `${q}-poison`)].sort());
  });

  it('locks the storage account down: TLS 1.2, no shared keys, no public blobs', () => {
    const account = onlyResource('Microsoft.Storage/storageAccounts').body;
    expect(literal(prop(account, 'properties.minimumTlsVersion'))).toBe('TLS1_2');
    expect(prop(account, 'properties.allowSharedKeyAccess')?.text).toBe('false');
    expect(prop(account, 'properties.allowBlobPublicAccess')?.text).toBe('false');
    expect(prop(account, 'properties.supportsHttpsTrafficOnly')?.text).toBe('true');
  });

  it('creates the Key Vault in RBAC mode with soft delete and purge protection', () => {
    const vault = onlyResource('Microsoft.KeyVault/vaults').body;
    expect(prop(vault, 'properties.enableRbacAuthorization')?.text).toBe('true');
    expect(prop(vault, 'properties.enableSoftDelete')?.text).toBe('true');
    expect(prop(vault, 'properties.enablePurgeProtection')?.text).toBe('true');
  });

  it('stores the Vantagepoint client secret and service password (and optionally the Graph secret) in Key Vault', () => {
    const secretValues = declared
      .filter((r) => r.type === 'Microsoft.KeyVault/vaults/secrets')
      .map((r) => prop(r.body, 'properties.value')?.text);
    expect(secretValues.sort()).toEqual([...SECRET_PARAMS].sort());
  });

  it('disables local auth on Application Insights (workspace-based) and on the workspace', () => {
    const insights = onlyResource('Microsoft.Insights/components').body;
    expect(prop(insights, 'properties.disableLocalAuth')?.text).toBe('true');
    expect(prop(insights, 'properties.WorkspaceResourceId')).toBeDefined();
    const workspace = onlyResource('Microsoft.OperationalInsights/workspaces').body;
    expect(prop(workspace, 'properties.features.disableLocalAuth')?.text).toBe('true');
  });

  it('hosts the app on Flex Consumption (FC1, Linux, Node.js 22) as a user-assigned identity', () => {
    const plan = onlyResource('Microsoft.Web/serverfarms').body;
    expect(literal(prop(plan, 'sku.name'))).toBe('FC1');
    expect(literal(prop(plan, 'sku.tier'))).toBe('FlexConsumption');
    expect(prop(plan, 'properties.reserved')?.text).toBe('true');

    const site = onlyResource('Microsoft.Web/sites').body;
    expect(literal(prop(site, 'kind'))).toBe('functionapp,linux');
    expect(literal(prop(site, 'identity.type'))).toBe('UserAssigned');
    expect(prop(site, 'properties.httpsOnly')?.text).toBe('true');
    expect(literal(prop(site, 'properties.functionAppConfig.runtime.name'))).toBe('node');
    expect(literal(prop(site, 'properties.functionAppConfig.runtime.version'))).toBe('22');
    const deployment = prop(site, 'properties.functionAppConfig.deployment.storage');
    expect(literal(prop(deployment, 'type'))).toBe('blobContainer');
    expect(literal(prop(deployment, 'authentication.type'))).toBe('UserAssignedIdentity');
    expect(prop(deployment, 'authentication.userAssignedIdentityResourceId')).toBeDefined();
  });
});

describe('role assignments (least privilege)', () => {
  const assignments = declared.filter((r) => r.type === 'Microsoft.Authorization/roleAssignments');

  /** Each (scope resource type, role id) pair the templates grant. */
  const grants = (): string[] => assignments.flatMap((r) => {
    const scope = prop(r.body, 'scope');
    const target = resources.find((t) => t.file === r.file && t.symbol === scope?.text);
    const roleDefinitionId = prop(r.body, 'properties.roleDefinitionId');
    if (!target || scope?.type !== 'identifier' || !roleDefinitionId) {
      throw new Error(`${r.file.path}: role assignment ${r.symbol} must be scoped to a resource symbol, not ${scope?.text ?? 'nothing'}`);
    }
    return evaluate(r.file, roleDefinitionId, r.loop).map((roleId) => `${target.type} ${roleId}`);
  });

  it('grants exactly the five roles, each on its own resource', () => {
    expect(grants().sort()).toEqual(
      [
        `Microsoft.Storage/storageAccounts ${ROLE.storageTableDataContributor}`,
        `Microsoft.Storage/storageAccounts ${ROLE.storageQueueDataContributor}`,
        `Microsoft.Storage/storageAccounts ${ROLE.storageBlobDataOwner}`,
        `Microsoft.KeyVault/vaults ${ROLE.keyVaultSecretsUser}`,
        `Microsoft.Insights/components ${ROLE.monitoringMetricsPublisher}`,
      ].sort(),
    );
  });

  it('names every assignment with guid() and targets a service principal', () => {
    expect(assignments.length).toBeGreaterThan(0);
    for (const r of assignments) {
      expect(prop(r.body, 'name')?.namedChildren[0]?.text).toBe('guid');
      expect(literal(prop(r.body, 'properties.principalType'))).toBe('ServicePrincipal');
    }
  });

  it('mentions no other role definition id anywhere and deploys at resource-group scope', () => {
    const guids = files.flatMap((f) =>
      allNodes(f.root)
        .filter((n) => n.type === 'string_content')
        .flatMap((n) => n.text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi) ?? []),
    );
    expect([...new Set(guids)].sort()).toEqual(Object.values(ROLE).sort());
    for (const file of files) {
      for (const scope of declarations(file, 'target_scope_assignment')) {
        expect(literal(scope.namedChildren.find((n) => n.type === 'string'))).toBe('resourceGroup');
      }
    }
  });

  it('deploys the Function App only after its grants exist', () => {
    const functionApp = declarations(mainFile, 'module_declaration').find((d) => declName(d) === 'functionApp');
    const body = functionApp ? withoutComments(functionApp.namedChildren).at(-1) : undefined;
    expect(prop(body, 'dependsOn')?.text).toContain('access');
  });
});

describe('secrets', () => {
  const secureParams = (file: BicepFile): string[] =>
    paramsOf(file).filter((p) => decoratorNames(p).includes('secure')).map(declName);

  it('takes every secret value through a @secure() parameter', () => {
    expect(secureParams(mainFile).sort()).toEqual([...SECRET_PARAMS].sort());
    expect(secureParams(fileAt(join('modules', 'keyvault.bicep'))).sort()).toEqual([...SECRET_PARAMS].sort());
    for (const file of files) {
      const unsecured = paramsOf(file).map(declName).filter((n) => /(secret|password)$/i.test(n) && !secureParams(file).includes(n));
      expect({ file: file.path, unsecured }).toEqual({ file: file.path, unsecured: [] });
    }
  });

  it('never puts a secret in an output', () => {
    for (const file of files) {
      const secrets = secureParams(file);
      for (const output of declarations(file, 'output_declaration')) {
        expect(declName(output)).not.toMatch(/password|secret/i);
        const used = [...identifiersIn(output)];
        expect(used.filter((id) => secrets.includes(id) || /^list/.test(id))).toEqual([]);
      }
    }
  });

  it('passes secret values from main.bicep only to the Key Vault module', () => {
    for (const module of declarations(mainFile, 'module_declaration')) {
      const path = literal(module.namedChildren.find((n) => n.type === 'string'));
      const passed = [...identifiersIn(module)].filter((id) => SECRET_PARAMS.includes(id));
      if (path !== 'modules/keyvault.bicep') expect({ path, passed }).toEqual({ path, passed: [] });
    }
  });
});

describe('Function App settings', () => {
  const appSettings = declared.find((r) => r.type === 'Microsoft.Web/sites/config' && literal(prop(r.body, 'name')) === 'appsettings');
  const settingsObject = prop(appSettings?.body, 'properties');
  const deployed = settingsObject ? properties(settingsObject).map(propertyKey) : [];
  const setting = (name: string): Node | undefined => prop(settingsObject, name);
  const sample = Object.keys((JSON.parse(readFileSync(join(ROOT, 'local.settings.sample.json'), 'utf8')) as { Values: Record<string, string> }).Values);

  it('equals the settings the code reads (local.settings.sample.json) minus dev-only plus platform', () => {
    const expected = [...sample.filter((s) => !DEV_ONLY_SETTINGS.includes(s)), ...PLATFORM_SETTINGS];
    expect([...deployed].sort()).toEqual([...new Set(expected)].sort());
    expect(new Set(deployed).size).toBe(deployed.length);
  });

  it('sets nothing the code or the platform does not read', () => {
    const readByCode = Object.keys(settingsSchema.shape);
    expect(deployed.filter((s) => !readByCode.includes(s) && !PLATFORM_SETTINGS.includes(s))).toEqual([]);
    // The dev-only list really is part of the sample (so it cannot silently go stale).
    expect(sample).toEqual(expect.arrayContaining(DEV_ONLY_SETTINGS));
  });

  it('uses production values and identity-based connections', () => {
    expect(literal(setting('CONNECT_ENVIRONMENT'))).toBe('production');
    expect(literal(setting('AzureWebJobsStorage__credential'))).toBe('managedidentity');
    expect(setting('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')?.text).toBe("'ClientId=${identityClientId};Authorization=AAD'");
    expect(setting('AzureWebJobsStorage__clientId')?.text).toBe('identityClientId');
    expect(setting('KEY_VAULT_URL')?.text).toBe('keyVaultUri');
  });

  it('derives GRAPH_NOTIFICATION_URL and OUTBOUND_IP_ADDRESSES from the site itself', () => {
    const file = fileAt(join('modules', 'functionapp.bicep'));
    expect(setting('GRAPH_NOTIFICATION_URL')?.text).toBe('graphNotificationUrl');
    expect(variableValue(file, 'graphNotificationUrl').text).toBe("'${baseUrl}/api/notifications/graph'");
    expect(variableValue(file, 'baseUrl').text).toBe("'https://${site.properties.defaultHostName}'");
    expect(setting('OUTBOUND_IP_ADDRESSES')?.text).toBe('outboundIpAddresses');
    expect(variableValue(file, 'outboundIpAddresses').text).toContain('site.properties.possibleOutboundIpAddresses');
  });

  it('defaults every tunable parameter of main.bicep to the code\'s own default', () => {
    const shape = settingsSchema.shape as Record<string, { parse(v: unknown): unknown }>;
    const compared = paramsOf(mainFile).flatMap((p) => {
      const settingName = declName(p).replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
      const defaultValue = withoutComments(p.namedChildren).at(-1);
      const schema = shape[settingName];
      if (!schema || !defaultValue || !['string', 'number'].includes(defaultValue.type)) return [];
      const codeDefault = schema.parse(undefined);
      if (codeDefault === undefined) return [];
      return [{ settingName, infra: schema.parse(literal(defaultValue) ?? defaultValue.text), code: codeDefault }];
    });
    expect(compared.length).toBeGreaterThanOrEqual(10);
    for (const { settingName, infra, code } of compared) expect({ settingName, value: infra }).toEqual({ settingName, value: code });
  });

  it('names the Key Vault secrets the way the code expects', () => {
    const shape = settingsSchema.shape;
    expect(literal(variableValue(mainFile, 'vantagepointClientSecretName'))).toBe(shape.VANTAGEPOINT_CLIENT_SECRET_NAME.parse(undefined));
    expect(literal(variableValue(mainFile, 'vantagepointServicePasswordSecretName'))).toBe(shape.VANTAGEPOINT_SERVICE_PASSWORD_SECRET_NAME.parse(undefined));
    expect(literal(variableValue(mainFile, 'sessionSigningKeysSecretName'))).toBe(shape.SESSION_SIGNING_KEYS_SECRET_NAME.parse(undefined));
    expect(literal(variableValue(mainFile, 'clientStateKeysSecretName'))).toBe(shape.CLIENT_STATE_KEYS_SECRET_NAME.parse(undefined));
  });
});

describe('deployment entry points', () => {
  const outputs = declarations(mainFile, 'output_declaration').map(declName);

  it('outputs the base URL, the Graph notification URL and the outbound IP addresses', () => {
    expect(outputs).toEqual(expect.arrayContaining(['FUNCTION_APP_BASE_URL', 'GRAPH_NOTIFICATION_URL', 'OUTBOUND_IP_ADDRESSES']));
  });

  it('names the Graph application permissions the app needs, Mail.Send for notification emails included, and the sender', () => {
    const output = declarations(mainFile, 'output_declaration').find((d) => declName(d) === 'GRAPH_APPLICATION_PERMISSIONS');
    const value = literal(output ? withoutComments(output.namedChildren).at(-1) : undefined);
    expect(value?.split(',')).toEqual(['Calendars.Read', 'Contacts.Read', 'Mail.Read', 'Mail.Send']);
    expect(outputs).toContain('NOTIFICATION_SENDER');
    expect(readFileSync(join(ROOT, 'docs', 'DEPLOY.md'), 'utf8')).toMatch(/Mail\.Send/);
  });

  it('main.parameters.json covers every required parameter and holds no secret literal', () => {
    const file = JSON.parse(readFileSync(join(INFRA, 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: unknown }> };
    const declaredParams = paramsOf(mainFile);
    const names = declaredParams.map(declName);
    const required = declaredParams.filter((p) => withoutComments(p.namedChildren).at(-1)?.type === 'type').map(declName);
    expect(Object.keys(file.parameters).filter((n) => !names.includes(n))).toEqual([]);
    expect(required.filter((n) => !(n in file.parameters))).toEqual([]);
    for (const name of SECRET_PARAMS) {
      const value = file.parameters[name]?.value;
      if (value !== undefined) expect(value).toMatch(/^\$\{[A-Z0-9_]+(=)?\}$/);
    }
  });

  it('azure.yaml deploys the project as a function app with the Bicep in infra/', () => {
    const yaml = readFileSync(join(ROOT, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/^\s+host:\s*function\s*$/m);
    expect(yaml).toMatch(/^\s+provider:\s*bicep\s*$/m);
    expect(yaml).toMatch(/^\s+path:\s*infra\s*$/m);
    expect(yaml).toMatch(/^\s{2}api:\s*$/m); // the azd-service-name tag on the site
  });
});
