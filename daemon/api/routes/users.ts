/**
 * Users (admin): list, add (the answer carries the token, shown this once), remove. The last
 * admin cannot be removed: nobody could make users any more.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { DcuError, ErrorCode } from '../../../protocol/common/errors';
import { ROLES, USER_NAME, type Role } from '../../../storage/users';
import { notFound, type ApiContext } from '../context';

const Name = Type.String({ pattern: USER_NAME.source, description: 'lower-case letters, digits and -, starting with a letter' });

export function userRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const { users } = ctx;
  app.get('/api/v1/users', { config: { role: 'admin' } }, () => ({ users: users.list().map((u) => ({ ...u, createdAt: new Date(u.createdAt).toISOString() })) }));
  app.post('/api/v1/users', { config: { role: 'admin' }, schema: { body: Type.Object({ name: Name, role: Type.Union(ROLES.map((r) => Type.Literal(r))) }, { additionalProperties: false }) } }, async (req, reply) => {
    const { name, role } = req.body as { name: string; role: Role };
    const token = users.add(name, role, req.user?.name ?? '?', ctx.deps.clock.now());
    return reply.code(201).send({ name, role, token });
  });
  app.delete('/api/v1/users/:name', { config: { role: 'admin' }, schema: { params: Type.Object({ name: Name }, { additionalProperties: false }) } }, (req) => {
    const { name } = req.params as { name: string };
    const u = users.get(name);
    if (u === undefined) throw notFound(`no user ${name} (GET /api/v1/users lists them)`);
    if (u.role === 'admin' && users.count('admin') === 1) throw new DcuError(ErrorCode.Conflict, `${name} is the last admin; add another admin first`);
    users.remove(name);
    ctx.auth.forget();
    return { name, result: 'removed' };
  });
}
