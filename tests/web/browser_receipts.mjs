// Receipts in a real browser (Debian's chromium, playwright-core), run by
// test_web_receipts.py against each server:
//   node browser_receipts.mjs BASE_URL SHOTS ADDRESS PASSWORD TAG
// As ADDRESS: the compose options (Return receipt, Delivery status
// notification, Priority) kept when the form comes back with an error and
// in a saved draft, then sent to alice; a message that asks for a receipt
// shows the notice, "Send receipt" sends it and the notice is gone (also
// after a reload); "Ignore" sends nothing and the notice is gone; a
// receipt that would go elsewhere than the Return-Path says so; a message
// in Junk shows no notice. The Python side checks what was delivered.
import { check, exitWithResult, fail, launch, screenshotter } from './browserlib.mjs';

const [base, shots, address, password, tag] = process.argv.slice(2);
const browser = await launch();
const shot = screenshotter(shots);
const NOTICE = 'The sender asked to be notified when you read this message.';

async function openMessage(page, folderLabel, subject) {
	await page.goto(`${base}/list`);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click(`.folders a:has-text("${folderLabel}")`)]);
	await Promise.all([page.waitForNavigation({ url: /\/msg\?/ }), page.click(`.messages a:has-text("${subject}")`)]);
}

async function options(page) {
	return {
		receipt: await page.locator('#receipt').isChecked(),
		dsn: await page.locator('#dsn').isChecked(),
		priority: await page.locator('#priority').inputValue(),
	};
}

function same(a, b) {
	return JSON.stringify(a) === JSON.stringify(b);
}

try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(15000);
	await page.goto(`${base}/list`);
	await page.fill('#address', address);
	await page.fill('#password', password);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button[type=submit]')]);

	// ------------------------------------------------ compose options
	await Promise.all([page.waitForNavigation({ url: /\/compose/ }), page.click('a.compose-btn')]);
	check(same(await options(page), { receipt: false, dsn: false, priority: 'normal' }),
	      'a new message asks for no receipt, no DSN, normal priority');
	// the labels name the boxes (a click on the text ticks them)
	await page.click('label[for=receipt]');
	await page.click('label[for=dsn]');
	await page.selectOption('#priority', 'high');
	const want = { receipt: true, dsn: true, priority: 'high' };
	check(same(await options(page), want), 'the labels tick the boxes, the priority is chosen');
	await page.fill('#to', 'bob');   // not a complete address: the form comes back
	await page.fill('#subject', `Options ${tag}`);
	await page.fill('#body', 'With a receipt, please.');
	await shot(page, 'receipts-01-compose-options');
	await Promise.all([page.waitForNavigation(), page.click('button[name=op][value=send]')]);
	check((await page.locator('.error').count()) === 1, 'an invalid recipient shows the form again');
	check(same(await options(page), want), 'the options are kept when the form comes back');
	await page.fill('#to', 'alice@example.com');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button[name=op][value=save]')]);
	check(same(await options(page), want), 'a saved draft keeps the options');
	await shot(page, 'receipts-02-draft-options');
	await Promise.all([page.waitForNavigation({ url: /sent=/ }), page.click('button[name=op][value=send]')]);
	check(/Message sent/.test(await page.title()), 'the message with the options is sent');

	// ------------------------------------------------ send a receipt
	await openMessage(page, 'Inbox', `Receipt please ${tag}`);
	const notice = page.locator('.notice.receipt');
	check(await notice.count() === 1 && (await notice.textContent()).includes(NOTICE),
	      'a message asking for a receipt shows the notice');
	check(await page.locator('.receipt-warn').count() === 0,
	      'no warning when the receipt goes back to the sender');
	await shot(page, 'receipts-03-notice');
	const url = page.url();
	await Promise.all([page.waitForNavigation({ url: /receipt=sent/ }), page.click('.receiptform button[value=send]')]);
	check(await page.locator('.notice.receipt').count() === 0, 'after Send receipt the notice is gone');
	check((await page.textContent('main')).includes('Receipt sent.'), '... and the page says the receipt was sent');
	await shot(page, 'receipts-04-sent');
	await page.goto(url);
	check(await page.locator('.notice.receipt').count() === 0, '... also after a reload');

	// ------------------------------------------------ ignore
	await openMessage(page, 'Inbox', `Ignore me ${tag}`);
	check(await page.locator('.notice.receipt').count() === 1, 'the second message shows the notice');
	await Promise.all([page.waitForNavigation({ url: /receipt=ignored/ }), page.click('.receiptform button[value=ignore]')]);
	check(await page.locator('.notice.receipt').count() === 0, 'after Ignore the notice is gone');
	await page.reload();
	check(await page.locator('.notice.receipt').count() === 0, '... also after a reload');

	// ------------------------------------------------ elsewhere, junk
	await openMessage(page, 'Inbox', `Redirected ${tag}`);
	const warn = page.locator('.receipt-warn');
	check(await warn.count() === 1 &&
	      (await warn.textContent()).includes('The receipt would go to collector@example.net, not to the sender.'),
	      'a receipt to another address than the Return-Path is named in a warning');
	await shot(page, 'receipts-05-redirected');
	await openMessage(page, 'Junk', `Junk receipt ${tag}`);
	check(await page.locator('.notice.receipt').count() === 0, 'a message in Junk shows no notice');
} catch (e) {
	fail(e);
}
await browser.close();
exitWithResult();
