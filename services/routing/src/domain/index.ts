// The routing domain: pure functions other teams can reuse without the service around them.
export * from './acceptance.js';
export * from './accounts.js';
export * from './consistency.js';
export * from './crm-changes.js';
export * from './lead.js';
export * from './owners.js';
export * from './owner-changes.js';
export * from './pool.js';
export * from './regions.js';
export * from './route.js';
export * from './rules.js';
export * from './sla.js';
export * from './turns.js';
export { RoutingConfigError } from './validate.js';
export * from './crm-accounts.js';
