// The compose side of the webmail in a real browser (Debian's chromium,
// playwright-core), run by test_web_compose.py against each server:
//   node browser_compose.mjs BASE_URL SHOTS ADDRESS PASSWORD TAG FILE1 FILE2
// Writes a message with two attachments, a non-ASCII subject and display
// names to a local and a remote address (and a Bcc); finds the copy in
// Sent; replies, replies to all (Cc without our own address), forwards
// with the attachments and as an attachment; checks the identity a reply
// is sent from; saves a draft with an attachment, saves it again (still one
// draft), reopens and sends it (the draft is gone). Subjects carry TAG so
// the Python side finds each message in the recipients' mailboxes.
import { check, exitWithResult, fail, launch, screenshotter } from './browserlib.mjs';

const [base, shots, address, password, tag, file1, file2] = process.argv.slice(2);
const browser = await launch();

const shot = screenshotter(shots);

async function openMessage(page, folderLabel, subject) {
	await page.goto(`${base}/list`);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click(`.folders a:has-text("${folderLabel}")`)]);
	await Promise.all([page.waitForNavigation({ url: /\/msg\?/ }), page.click(`.messages a:has-text("${subject}")`)]);
}

async function send(page, what) {
	await Promise.all([page.waitForNavigation({ url: /sent=/ }), page.click('button[name=op][value=send]')]);
	check(/Message sent/.test(await page.title()), `${what}: the sent page is shown`);
}

try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(15000);
	await page.goto(`${base}/list`);
	await page.fill('#address', address);
	await page.fill('#password', password);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button[type=submit]')]);

	// ------------------------------------------------ a new message
	await Promise.all([page.waitForNavigation({ url: /\/compose/ }), page.click('a.compose-btn')]);
	check(/New message/.test(await page.title()), 'Compose opens a new message');
	check(await page.locator('#from').inputValue() === address, 'the main address is the sender');
	await page.fill('#to', `"Älice Ünïcode, Jr." <alice@example.com>, Rémi Distant <remote@example.net>`);
	await page.fill('#bcc', 'Hidden <hidden@example.net>');
	await page.fill('#subject', `Grüße ${tag} ✓ — Ελληνικά`);
	await page.fill('#body', `Hello Alice,\n\nhere are the two files (${tag}).\n\nBob`);
	await page.setInputFiles('#attach', [file1, file2]);
	await shot(page, 'compose-01-new');
	await send(page, 'a new message with two attachments');
	await shot(page, 'compose-02-sent');
	await Promise.all([page.waitForNavigation({ url: /\/msg\?/ }), page.click('a:has-text("View it in Sent")')]);
	check((await page.textContent('h1')).includes(`Grüße ${tag}`), 'the copy in Sent has the subject');
	check(await page.locator('.attachments li').count() === 2, 'the copy in Sent has both attachments');
	check((await page.textContent('.message')).includes('Rémi Distant'), 'the display names are kept');
	await shot(page, 'compose-03-sent-copy');

	// ------------------------------------------------ reply
	await openMessage(page, 'Inbox', 'Plain text message');
	await Promise.all([page.waitForNavigation({ url: /mode=reply/ }), page.click('.replybar a:text-is("Reply")')]);
	check(await page.locator('#subject').inputValue() === 'Re: Plain text message', 'Re: is added once');
	check((await page.locator('#to').inputValue()).includes('alice@example.com'), 'a reply goes to the sender');
	const quoted = await page.locator('#body').inputValue();
	check(/On .*, Alice Example wrote:\n> Hello Bob,\n/.test(quoted), 'the original is quoted with an attribution line');
	check(quoted.includes('>> quoted line'), 'quoted lines are quoted once more');
	await page.fill('#subject', `Re: Plain text message ${tag}`);
	await page.locator('#body').press('Control+Home');
	await page.locator('#body').type(`My answer ${tag}.`);
	await shot(page, 'compose-04-reply');
	await send(page, 'a reply');

	// a reply to an answer is not "Re: Re:"
	await page.goto(`${base}/list`);
	await openMessage(page, 'Inbox', `Re: Already answered ${tag}`);
	await Promise.all([page.waitForNavigation({ url: /mode=reply/ }), page.click('.replybar a:text-is("Reply")')]);
	check(await page.locator('#subject').inputValue() === `RE: Re: Already answered ${tag}`, 'Re: is not added again');

	// ------------------------------------------------ reply all, identity
	await openMessage(page, 'Inbox', `Thread start ${tag}`);
	await Promise.all([page.waitForNavigation({ url: /mode=all/ }), page.click('.replybar a:text-is("Reply all")')]);
	const to = await page.locator('#to').inputValue(), cc = await page.locator('#cc').inputValue();
	check(to.includes('alice@example.com'), 'reply all: the sender in To');
	check(cc.includes('carol@example.net') && cc.includes('dave@example.org'), 'reply all: the others in Cc');
	check(!to.includes(address) && !cc.includes(address) && !cc.includes('robert@example.com'),
	      'reply all: none of our own addresses');
	await shot(page, 'compose-05-reply-all');
	await send(page, 'a reply to all');
	await openMessage(page, 'Inbox', `For Robert ${tag}`);
	await Promise.all([page.waitForNavigation({ url: /mode=reply/ }), page.click('.replybar a:text-is("Reply")')]);
	check(await page.locator('#from').inputValue() === 'robert@example.com',
	      'a reply is sent from the alias the message was addressed to');

	// ------------------------------------------------ forward
	await openMessage(page, 'Inbox', 'Files attached');
	await Promise.all([page.waitForNavigation({ url: /mode=forward/ }), page.click('.replybar a:text-is("Forward")')]);
	check(await page.locator('#subject').inputValue() === 'Fwd: Files attached', 'Fwd: is added');
	check(await page.locator('input[name=keep]:checked').count() === 3,
	      'a forward keeps the original attachments (2 files and a message)');
	check((await page.locator('#body').inputValue()).includes('---------- Forwarded message ----------'),
	      'the forward block is in the text');
	await page.fill('#to', 'alice@example.com');
	await page.fill('#subject', `Fwd: Files attached ${tag}`);
	await shot(page, 'compose-06-forward');
	await send(page, 'a forward');
	await openMessage(page, 'Inbox', 'Files attached');
	await page.click('details.more summary');
	await Promise.all([page.waitForNavigation({ url: /mode=attach/ }), page.click('a:has-text("Forward as attachment")')]);
	check(await page.locator('input[name=keep][value="o:m"]:checked').count() === 1,
	      'forward as attachment offers the whole message');
	await page.fill('#to', 'alice@example.com');
	await page.fill('#subject', `Fwd as attachment ${tag}`);
	await send(page, 'a forward as attachment');

	// ------------------------------------------------ drafts
	await Promise.all([page.waitForNavigation({ url: /\/compose/ }), page.click('a.compose-btn')]);
	await page.fill('#to', 'Alice <alice@example.com>');
	await page.fill('#subject', `Draft ${tag}`);
	await page.fill('#body', 'First version.');
	await page.setInputFiles('#attach', [file2]);
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button[name=op][value=save]')]);
	check((await page.textContent('.notice')).includes('Draft saved'), 'the draft is saved');
	check(await page.locator('input[name=keep]:checked').count() === 1, 'the draft keeps its attachment');
	check(await page.locator('#body').inputValue() === 'First version.\n', 'the draft keeps its text');
	await page.fill('#body', 'Second version.');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }), page.click('button[name=op][value=save]')]);
	await page.goto(`${base}/list`);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('.folders a:has-text("Drafts")')]);
	check(await page.locator(`.messages li:has-text("Draft ${tag}")`).count() === 1,
	      'saving again replaces the draft');
	await shot(page, 'compose-07-drafts');
	await Promise.all([page.waitForNavigation({ url: /\/msg\?/ }), page.click(`.messages a:has-text("Draft ${tag}")`)]);
	await page.click('details.more summary');
	await Promise.all([page.waitForNavigation({ url: /\/compose/ }), page.click('a:has-text("Edit as new message")')]);
	check(/Draft/.test(await page.title()), 'a draft reopens as a draft');
	check((await page.locator('#body').inputValue()).includes('Second version.'), 'the reopened draft has the latest text');
	check(await page.locator('input[name=keep]:checked').count() === 1, 'the reopened draft has its attachment');
	check((await page.locator('#to').inputValue()).includes('alice@example.com'), 'the reopened draft has its recipient');
	await shot(page, 'compose-08-draft-reopened');
	await send(page, 'a draft');
	await page.goto(`${base}/list`);
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('.folders a:has-text("Drafts")')]);
	check(await page.locator(`.messages li:has-text("Draft ${tag}")`).count() === 0,
	      'the draft is gone once sent');

	// ------------------------------------------------ errors keep what was typed
	await Promise.all([page.waitForNavigation({ url: /\/compose/ }), page.click('a.compose-btn')]);
	await page.fill('#to', 'alice@example.com, bob');
	await page.fill('#subject', `Never sent ${tag}`);
	await Promise.all([page.waitForNavigation(), page.click('button[name=op][value=send]')]);
	check((await page.textContent('.error')).includes('"bob" is not a complete e-mail address'),
	      'a bad address is named in the error');
	check(await page.locator('#subject').inputValue() === `Never sent ${tag}`, 'the form keeps what was typed');
	await shot(page, 'compose-09-error');
	await ctx.close();

	// ------------------------------------------------ phone
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
	const pp = await phone.newPage();
	await pp.goto(`${base}/compose`);
	await pp.fill('#address', address);
	await pp.fill('#password', password);
	await Promise.all([pp.waitForNavigation({ url: /\/compose/ }), pp.click('button[type=submit]')]);
	await shot(pp, 'compose-10-phone');
	const scrollW = await pp.evaluate(() => document.documentElement.scrollWidth);
	check(scrollW <= 391, `the compose page fits a phone (${scrollW})`);
	await phone.close();
} catch (e) {
	fail(e);
} finally {
	await browser.close();
}
exitWithResult();
