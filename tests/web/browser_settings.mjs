// Settings, folders and password in a real browser (Debian's chromium via
// playwright-core), as a user does them:
//   node browser_settings.mjs BASE_URL SCREENSHOT_DIR ADDRESS PASSWORD NEW_PASSWORD
// Saves an identity's name and signature and the reading preferences, sees
// the quota, creates, renames and (after the confirmation) deletes folders,
// finds Inbox protected, copies a message, changes the password, signs out
// and back in with the new one (the old one fails); then looks at the pages
// on a phone-sized screen. A screenshot of each step goes to SCREENSHOT_DIR.
import { check, exitWithResult, fail, launch, screenshotter } from './browserlib.mjs';

const [base, shots, address, password, newPassword] = process.argv.slice(2);
const browser = await launch();

const shot = screenshotter(shots);

async function signIn(page, pw) {
	await page.goto(`${base}/login`);
	await page.fill('#address', address);
	await page.fill('#password', pw);
	await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
}

const row = (page, name) => page.locator(`.folder-table tr:has(span.fname[title="${name}"])`);

try {
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(15000);
	await signIn(page, password);
	check(page.url().includes('/list'), 'signed in');

	// ------------------------------------------------------------ settings
	await Promise.all([page.waitForNavigation({ url: /\/settings/ }), page.click('header a:has-text("Settings")')]);
	check(await page.locator('h3', { hasText: address }).count() === 1, 'the main address is an identity');
	await page.fill('#name0', 'Browser Person');
	await page.fill('#signature0', '-- \nBrowser Person\nPhone 123');
	await Promise.all([page.waitForNavigation({ url: /saved=identity/ }), page.click('#identity0 button[type=submit]')]);
	check((await page.textContent('.notice')).includes('identity was saved'), 'saving an identity says so');
	check(await page.inputValue('#name0') === 'Browser Person', 'the name is shown again');
	check(await page.inputValue('#signature0') === '-- \nBrowser Person\nPhone 123',
	      'the signature is shown again, line breaks kept');
	await shot(page, 'settings-01-identity');

	await page.selectOption('#page_size', '25');
	await page.check('input[name=remote_images][value=known]');
	await Promise.all([page.waitForNavigation({ url: /saved=1/ }),
		page.click('form:has(input[name=section][value=prefs]) button[type=submit]')]);
	await page.reload();
	check(await page.inputValue('#page_size') === '25', 'the page size is kept');
	check(await page.isChecked('input[name=remote_images][value=known]'),
	      'remote images "for senders in my address book" is kept');
	const quota = await page.textContent('.quota');
	check(/of 50 MB used/.test(quota) && await page.locator('.quota meter').count() >= 1,
	      `the quota shows with a bar (${quota.trim().split('\n')[0]})`);
	await shot(page, 'settings-02-preferences');

	// ------------------------------------------------------------ folders
	await Promise.all([page.waitForNavigation({ url: /\/folders/ }), page.click('.subnav a:has-text("Folders")')]);
	check(await row(page, 'Inbox').locator('a:has-text("Rename")').count() === 0 &&
	      (await row(page, 'Inbox').textContent()).includes('Protected'), 'Inbox is protected');
	check(await row(page, 'Sent').locator('a:has-text("Delete")').count() === 0, 'Sent is protected');
	await page.fill('#create_name', 'Receipts');
	await Promise.all([page.waitForNavigation({ url: /done=created/ }), page.click('button:has-text("Create folder")')]);
	check(await page.locator('.folders a:has-text("Receipts")').count() === 1,
	      'a new folder shows in the sidebar');
	check(await row(page, 'Receipts').count() === 1, 'and in the table');
	await shot(page, 'settings-03-folders');

	await Promise.all([page.waitForNavigation({ url: /edit=/ }), row(page, 'Receipts').locator('a:has-text("Rename")').click()]);
	await page.fill('#rename_name', 'Bills');
	await shot(page, 'settings-04-rename');
	await Promise.all([page.waitForNavigation({ url: /done=renamed/ }), page.click('button:has-text("Save")')]);
	check(await page.locator('.folders a:has-text("Bills")').count() === 1 &&
	      await page.locator('.folders a:has-text("Receipts")').count() === 0, 'the folder is renamed');

	// copy a message into it: the original stays
	await page.goto(`${base}/list`);
	await page.locator('.messages li', { hasText: 'Keep a copy' }).locator('input[type=checkbox]').check();
	await page.selectOption('#moveto', { label: 'Bills' });
	await Promise.all([page.waitForNavigation({ url: /\/list/ }), page.click('button[name=op][value=copy]')]);
	check(await page.locator('.messages li', { hasText: 'Keep a copy' }).count() === 1,
	      'a copied message stays in the Inbox');
	await Promise.all([page.waitForNavigation({ url: /\/list\?mb=/ }), page.click('.folders a:has-text("Bills")')]);
	check(await page.locator('.messages li', { hasText: 'Keep a copy' }).count() === 1,
	      'and is in the other folder too');

	// delete: the confirmation counts the messages; cancel keeps the folder
	await page.goto(`${base}/folders`);
	await Promise.all([page.waitForNavigation({ url: /delete=/ }), row(page, 'Bills').locator('a:has-text("Delete")').click()]);
	check((await page.textContent('.confirm')).includes('1 message'), 'the confirmation says 1 message goes');
	await shot(page, 'settings-05-confirm');
	await Promise.all([page.waitForNavigation({ url: /\/folders$/ }), page.click('.confirm a:has-text("Cancel")')]);
	check(await row(page, 'Bills').count() === 1, 'cancelling keeps the folder');
	await page.fill('#create_name', 'Receipts');
	await Promise.all([page.waitForNavigation({ url: /done=created/ }), page.click('button:has-text("Create folder")')]);
	await Promise.all([page.waitForNavigation({ url: /delete=/ }), row(page, 'Receipts').locator('a:has-text("Delete")').click()]);
	check((await page.textContent('.confirm')).includes('holds no messages'), 'an empty folder says so');
	await Promise.all([page.waitForNavigation({ url: /done=deleted/ }), page.click('button:has-text("Delete for good")')]);
	check(await row(page, 'Receipts').count() === 0 &&
	      await page.locator('.folders a:has-text("Receipts")').count() === 0, 'the folder is deleted');
	await page.fill('#create_name', 'a/b');
	await page.click('button:has-text("Create folder")');
	check((await page.textContent('.error')).includes('cannot contain'), 'a bad name gets a clear message');
	await shot(page, 'settings-06-bad-name');

	// ------------------------------------------------------------ password
	await Promise.all([page.waitForNavigation({ url: /\/password/ }), page.click('.subnav a:has-text("Password")')]);
	await page.fill('#old_password', 'wrong-password-0');
	await page.fill('#new_password', newPassword);
	await page.fill('#new_password2', newPassword);
	await page.click('button:has-text("Change password")');
	check((await page.textContent('.error')).includes('not right'), 'a wrong current password is refused');
	await page.fill('#old_password', password);
	await page.fill('#new_password', newPassword);
	await page.fill('#new_password2', newPassword);
	await Promise.all([page.waitForNavigation({ url: /saved=password/ }), page.click('button:has-text("Change password")')]);
	check((await page.textContent('.notice')).includes('password was changed'), 'the password is changed');
	await shot(page, 'settings-07-password');
	await Promise.all([page.waitForNavigation({ url: /bye=1/ }), page.click('button:has-text("Sign out")')]);
	await signIn(page, password);
	check(page.url().includes('/login') && (await page.textContent('.error')).includes('Wrong'),
	      'the old password no longer signs in');
	await signIn(page, newPassword);
	check(page.url().includes('/list'), 'the new one does');

	// ------------------------------------------------------------ phone
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
	const p2 = await phone.newPage();
	p2.setDefaultTimeout(15000);
	await signIn(p2, newPassword);
	for (const [where, name] of [['settings', 'phone-01-settings'], ['folders', 'phone-02-folders'],
		['password', 'phone-03-password']]) {
		await p2.goto(`${base}/${where}`);
		// (the page's own part: the shared top bar is not this page's)
		const wide = await p2.evaluate(() => {
			const m = document.querySelector('main');
			return Math.max(m.getBoundingClientRect().right, ...[...m.querySelectorAll('*')]
				.map(e => e.getBoundingClientRect().right));
		});
		check(wide <= 390 + 1, `${where} fits a phone screen (${Math.round(wide)}px wide)`);
		await shot(p2, name);
	}
} catch (e) {
	fail(e);
} finally {
	await browser.close();
}
exitWithResult();
