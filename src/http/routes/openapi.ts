import type Router from '@koa/router';
import type { SourceDefinition } from '../../sources/source.js';
import { buildOpenApiDocument, OPENAPI_PATH } from '../openapi/document.js';

/** `GET /openapi.json`: the OpenAPI 3.1 description of this API, built once at start. */
export function mountOpenApiRoute(router: Router, sources: ReadonlyMap<string, SourceDefinition>): void {
  const body = JSON.stringify(buildOpenApiDocument(sources), null, 2);
  router.get(OPENAPI_PATH, (ctx) => {
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'application/json; charset=utf-8';
    ctx.body = body;
  });
}
