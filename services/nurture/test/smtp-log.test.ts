// What nurture logs of a failed SMTP send: the server's text, which often quotes the recipient, with
// every address taken out (no personal data in logs).
import { withoutAddresses } from '../src/step.sender.js';

test('an SMTP refusal is logged without the addresses it quotes', () => {
  expect(withoutAddresses("Can't send mail - all recipients were rejected: 550 5.1.1 <ada.lovelace@example.com>: Recipient address rejected"))
    .toBe("Can't send mail - all recipients were rejected: 550 5.1.1 <address>: Recipient address rejected");
  expect(withoutAddresses('553 sender grace+sales@mail.example.org not allowed')).toBe('553 sender <address> not allowed');
});

test('an error without an address is logged as it is', () => {
  expect(withoutAddresses('connect ECONNREFUSED 127.0.0.1:1025')).toBe('connect ECONNREFUSED 127.0.0.1:1025');
  expect(withoutAddresses('421 4.7.0 Try again later')).toBe('421 4.7.0 Try again later');
});
