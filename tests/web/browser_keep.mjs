// A message being written survives the end of its session, and what cannot
// be undone is asked first, in Debian's chromium (run by test_web_keep.py):
//   node browser_keep.mjs BASE_URL SHOTS BOB BOB_PASSWORD ALICE ALICE_PASSWORD
// - the session ends while bob writes (its cookie names a deleted session;
//   or he signs out in another window): Send shows the sign-in page, which
//   keeps the message; bob signs in, finds it filled, not sent, sends it;
// - alice signs in on such a page: the list, not bob's message;
// - a page of another site posts to /compose: the plain sign-in, nothing
//   kept, and signing in leads to the list;
// - bob signs in again in another window (a new CSRF token): Send in the
//   first shows the message again with an error; sending it then works;
// - Delete for good in Trash and Empty Trash ask first, with the focus on
//   the button; Cancel returns to the same list and deletes nothing.
// The Python side checks what reached alice's inbox.
import { check, exitWithResult, fail, focusOn, launch, screenshotter } from './browserlib.mjs';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [base, shots, bob, bobPassword, alice, alicePassword] = process.argv.slice(2);
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const browser = await launch();
const shot = screenshotter(shots);
const file = path.join(shots, 'notes.txt');
fs.writeFileSync(file, 'notes\n');

async function newPage(ctx) {
	const page = await (ctx || await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
	page.setDefaultTimeout(15000);
	return page;
}

async function signIn(page, who, pw, to = /\/list/) {
	await page.goto(`${base}/login`);
	await page.fill('#address', who);
	await page.fill('#password', pw);
	await Promise.all([page.waitForNavigation({ url: to }), page.click('button[type=submit]')]);
}

async function signOut(page) {
	await page.goto(`${base}/list`);
	await Promise.all([page.waitForNavigation({ url: /bye=1/ }), page.click('button:has-text("Sign out")')]);
}

async function write(page, subject, text) {
	await page.goto(`${base}/compose`);
	await page.fill('#to', alice);
	await page.fill('#subject', subject);
	await page.fill('#body', text);
}

async function send(page, url) {
	await Promise.all([page.waitForNavigation({ url }), page.click('button[name=op][value=send]')]);
}

async function axe(page, what) {
	await page.evaluate(axeSource);
	const bad = await page.evaluate(async () => {
		const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } });
		return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v => v.id);
	});
	check(bad.length === 0, `${what}: no serious axe violation (${bad.join(', ')})`);
}

const keptNotice = 'Your session expired. Sign in again to continue; your message has been kept.';

try {
	// ------------------------------------------------ the session ends while writing
	const page = await newPage();
	await signIn(page, bob, bobPassword);
	await write(page, 'Kept across a sign-in', 'Written before the session ended.\nSecond line.');
	await page.setInputFiles('#attach', [file]);
	await page.context().clearCookies();   // its record deleted, the cookie still sent
	await page.context().addCookies([{ name: 'pbx_session', value: 'cd'.repeat(32), url: base }]);
	await send(page, /\/compose/);
	await shot(page, '01-signin-kept');
	const notice = await page.textContent('.notice');
	check(notice.includes(keptNotice) && notice.includes('Attachments must be added again: notes.txt.'),
	      `the sign-in page says the message was kept (${notice})`);
	check(await page.inputValue('#address') === bob, 'the address is filled in');
	check(await focusOn(page, 'password'), 'the focus is on the password');
	await axe(page, 'the sign-in page with a kept message');
	await page.fill('#password', bobPassword);
	await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
	await shot(page, '02-compose-restored');
	check(/New message/.test(await page.title()), 'signing in opens the compose page');
	check(await page.inputValue('#to') === alice && await page.inputValue('#subject') === 'Kept across a sign-in',
	      'To and Subject are back');
	check(await page.inputValue('#body') === 'Written before the session ended.\nSecond line.', 'the text is back');
	check((await page.textContent('main')).includes('attach them again: notes.txt'), 'the file is named to attach again');
	await page.setInputFiles('#attach', [file]);
	await send(page, /sent=/);
	check(/Message sent/.test(await page.title()), 'the kept message is sent with the new session');

	// ------------------------------------------------ signed out in another window; alice signs in
	const other = await newPage(page.context());
	await write(page, 'Not for Alice', 'Bob\'s private words.');
	await signOut(other);
	await send(page, /\/compose/);
	check((await page.textContent('.notice')).includes(keptNotice), 'signed out in another window: the message is kept');
	await page.fill('#address', alice);
	await page.fill('#password', alicePassword);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button[type=submit]')]);
	check(!(await page.content()).includes('private words'), 'alice signing in gets her list, not the message');
	await page.goto(`${base}/compose`);
	check(!(await page.inputValue('#body')).includes('private words') && await page.inputValue('#subject') === '',
	      'and her compose page is empty');
	await signOut(page);

	// ------------------------------------------------ a page of another site posts to /compose
	const evil = await newPage();
	await evil.route('http://evil.test/**', route => route.fulfill({ contentType: 'text/html', body:
		`<form method="post" action="${base}/compose" enctype="multipart/form-data">` +
		`<input type="hidden" name="owner" value="${bob}"><input type="hidden" name="from" value="${bob}">` +
		'<input type="hidden" name="to" value="evil@example.net"><input type="hidden" name="op" value="send">' +
		'<input type="hidden" name="body" value="Please wire the money."><button>Go</button></form>' }));
	await evil.goto('http://evil.test/');
	await Promise.all([evil.waitForNavigation({ url: /\/login/ }), evil.click('button')]);
	check(await evil.locator('input[name^=k_]').count() === 0 && !(await evil.content()).includes('wire the money'),
	      'a foreign page\'s POST: the plain sign-in, nothing kept');
	await evil.fill('#address', bob);
	await evil.fill('#password', bobPassword);
	await Promise.all([evil.waitForNavigation({ url: /\/list/ }), evil.click('button[type=submit]')]);
	check(/Inbox/.test(await evil.title()), '... and signing in leads to the inbox, not to compose');
	await evil.context().close();

	// ------------------------------------------------ signed in again in another window
	await signIn(page, bob, bobPassword);
	await write(page, 'Kept over a stale token', 'Written before the other window signed in.');
	await signOut(other);
	await signIn(other, bob, bobPassword);
	await send(page, /\/compose/);
	await shot(page, '03-compose-stale');
	check((await page.textContent('.error')).includes('This form had expired'), 'a stale token: the form again with an error');
	check(await page.inputValue('#body') === 'Written before the other window signed in.', '... and the text');
	await send(page, /sent=/);
	check(/Message sent/.test(await page.title()), 'sending it then works');

	// ------------------------------------------------ confirmations
	await page.goto(`${base}/list?sort=subject`);
	const row = page.locator('.messages li', { hasText: 'Plain text message' });
	await row.locator('input[type=checkbox]').check();
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button[name=op][value=delete]')]);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('.folders a:has-text("Trash")')]);
	await page.goto(page.url() + '&sort=subject&dir=desc');
	const trashUrl = page.url();
	const trashRow = page.locator('.messages li', { hasText: 'Plain text message' });
	await trashRow.locator('input[type=checkbox]').check();
	await Promise.all([page.waitForNavigation({ url: /\/action/ }), page.click('button[name=op][value=delete]')]);
	await shot(page, '04-confirm-delete');
	check((await page.textContent('h1')).trim() === 'Delete 1 message for good?', 'Delete for good asks first');
	check((await page.textContent('main')).includes('This cannot be undone.'), '... saying it cannot be undone');
	check(await page.evaluate(() => document.activeElement.textContent.trim()) === 'Delete for good',
	      '... with the focus on its button');
	await axe(page, 'the confirmation page');
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('a:has-text("Cancel")')]);
	check(page.url().includes('sort=subject') && page.url().includes('dir=desc'), 'Cancel returns to the same list');
	check(await trashRow.count() === 1, '... and deletes nothing');
	await trashRow.locator('input[type=checkbox]').check();
	await Promise.all([page.waitForNavigation({ url: /\/action/ }), page.click('button[name=op][value=delete]')]);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button:has-text("Delete for good")')]);
	check(await trashRow.count() === 0 && (await page.textContent('.notice.done')).includes('deleted for good'),
	      'confirmed, the message is deleted for good');
	check(page.url().includes('sort=subject'), '... and the list is the same');

	await page.goto(`${base}/list`);
	await page.locator('.messages li', { hasText: 'Flowed text' }).locator('input[type=checkbox]').check();
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button[name=op][value=delete]')]);
	await page.goto(trashUrl);
	await Promise.all([page.waitForNavigation({ url: /\/empty/ }), page.click('button:has-text("Empty Trash")')]);
	await shot(page, '05-confirm-empty');
	check((await page.textContent('h1')).trim() === 'Empty Trash?', 'Empty Trash asks first');
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('a:has-text("Cancel")')]);
	check(await page.locator('.messages li').count() === 1, 'Cancel empties nothing');
	await Promise.all([page.waitForNavigation({ url: /\/empty/ }), page.click('button:has-text("Empty Trash")')]);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('main button:has-text("Empty Trash")')]);
	check(await page.locator('.messages li').count() === 0 && page.url().includes('sort=subject'),
	      'confirmed, Trash is empty and the list the same');
} catch (e) {
	fail(e);
}
await browser.close();
exitWithResult();
