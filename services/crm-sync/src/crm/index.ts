export * from './crm-port.js';
export * from './create-crm-adapter.js';
export { SalesforceAdapter, type SalesforceOptions } from './salesforce.adapter.js';
export { HubspotAdapter, type HubspotOptions } from './hubspot.adapter.js';
export { RequestBudget, type RequestBudgetOptions } from './request-budget.js';
export { DEFAULT_RESILIENCE, PauseGate, type CrmAdapterEvent, type CrmEventListener, type ResilienceOptions } from './resilience.js';
export { DEFAULT_MAPPINGS_DIR, listFieldMappingVersions, loadFieldMapping } from './mapping-files.js';
