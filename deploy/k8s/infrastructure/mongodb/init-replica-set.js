// Run against mongodb-0 directly: initiates the replica set once, then waits for a primary.
const members = [0, 1, 2].map((i) => ({ _id: i, host: `mongodb-${i}.mongodb:27017` }));
try {
  rs.status();
  print('replica set rs0 already initiated');
} catch (err) {
  if (err.codeName !== 'NotYetInitialized') throw err;
  rs.initiate({ _id: 'rs0', members });
  print('replica set rs0 initiated');
}
for (let i = 0; i < 120; i++) {
  if (db.hello().primary) break;
  sleep(1000);
}
if (!db.hello().primary) throw new Error('no primary after two minutes');
