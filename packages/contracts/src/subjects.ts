/** The pipeline's subjects, leadmesh.<entity>.<event>, one per message in leadmesh.events.v1. */
export const SUBJECTS = {
  leadReceived: 'leadmesh.lead.received',
  activityRecorded: 'leadmesh.activity.recorded',
  leadScored: 'leadmesh.lead.scored',
  leadRouted: 'leadmesh.lead.routed',
  leadReassigned: 'leadmesh.lead.reassigned',
  leadUnsubscribed: 'leadmesh.lead.unsubscribed',
  nurtureEnrolled: 'leadmesh.nurture.enrolled',
  emailSent: 'leadmesh.email.sent',
  crmSynced: 'leadmesh.crm.synced',
  crmSyncFailed: 'leadmesh.crm.sync_failed',
  crmLeadChanged: 'leadmesh.crm.lead_changed',
  crmAccountChanged: 'leadmesh.crm.account_changed',
  contactErased: 'leadmesh.contact.erased',
  erasureCompleted: 'leadmesh.erasure.completed',
} as const;
