<?php
// Roundcube's own IMAP storage class (rcube_imap from Debian's
// roundcube-core, what its message list calls) against imapd, for
// test_imap_roundcube.py:
//   php roundcube_imap.php CONFIG_DIR PORT USER PASSWORD FOLDER
// prints JSON: the UIDs of the first page of the folder for each sort,
// the threaded list, the algorithm chosen, and the IMAP dialogue.
// CONFIG_DIR holds Roundcube's defaults.inc.php and a config.inc.php (logs
// there); the library runs without its database and web front end.
[, $config_dir, $port, $user, $password, $folder] = $argv;
define('INSTALL_PATH', '/var/lib/roundcube/');
define('RCMAIL_CONFIG_DIR', $config_dir);
require_once INSTALL_PATH . 'program/include/iniset.php';
rcube::get_instance();
$dialogue = [];
$imap = new rcube_imap();
if (!$imap->connect('127.0.0.1', $user, $password, (int) $port)) {
    fwrite(STDERR, 'connect failed: ' . $imap->get_error_str() . "\n");
    exit(1);
}
$imap->conn->setDebug(true, function ($conn, $line) use (&$dialogue) {
    $dialogue[] = $line;
});
$imap->set_folder($folder);
$imap->set_pagesize(200);
$out = ['sorted' => []];
foreach ([['subject', 'ASC'], ['date', 'DESC'], ['from', 'ASC'], ['size', 'DESC'],
          ['arrival', 'ASC']] as [$field, $order]) {
    $uids = [];
    foreach ($imap->list_messages($folder, 1, $field, $order) as $header) {
        $uids[] = $header->uid;
    }
    $out['sorted']["$field $order"] = $uids;
}
$out['threading'] = $imap->set_threading(true);
$out['threads'] = [];
foreach ($imap->list_messages($folder, 1, 'date', 'ASC') as $header) {
    $out['threads'][] = [$header->uid, $header->depth, $header->parent_uid ?? 0];
}
$imap->close();
$out['dialogue'] = $dialogue;
echo json_encode($out), "\n";
