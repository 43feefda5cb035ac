// Run against the replica set: one database and one user per service, each user able to read and
// write its own database only. Re-running updates the passwords, so rotating a Secret is a re-run.
const services = ['intake', 'scoring', 'routing', 'nurture', 'crm-sync'];
for (const service of services) {
  const key = service.toUpperCase().replace(/-/g, '_');
  const user = process.env[`${key}_MONGO_USERNAME`];
  const pwd = process.env[`${key}_MONGO_PASSWORD`];
  if (!user || !pwd) throw new Error(`${key}_MONGO_USERNAME and ${key}_MONGO_PASSWORD must be set`);
  const name = `leadmesh_${service.replace(/-/g, '_')}`;
  const database = db.getSiblingDB(name);
  const roles = [{ role: 'readWrite', db: name }];
  if (database.getUser(user)) {
    database.updateUser(user, { pwd, roles });
    print(`${name}: user ${user} updated`);
  } else {
    database.createUser({ user, pwd, roles });
    print(`${name}: user ${user} created`);
  }
}
