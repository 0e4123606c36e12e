import { ALL_ENDPOINTS } from '../../shared/api/endpoints';
import { openApiDocument } from '../../shared/api/openapi';

describe('OpenAPI document', () => {
  const doc = openApiDocument(ALL_ENDPOINTS, 'test') as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };

  it('describes every endpoint of the contract', () => {
    expect(doc.openapi).toBe('3.1.0');
    for (const e of ALL_ENDPOINTS) expect(doc.paths[`/api/${e.route}`]?.[e.method.toLowerCase()]).toBeDefined();
  });

  it('resolves every schema reference to a component generated from the zod schemas', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1] as string);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.filter((r) => !(r in doc.components.schemas))).toEqual([]);
  });
});
