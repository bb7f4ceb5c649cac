<?php
// Reference for Composer versions: composer/semver from Debian's php-composer-semver.
// Each version is normalised with VersionParser::normalize (refused strings and dev branches -> EA / EB)
// and the normalised forms are ordered with Comparator. Protocol: see ref_apt.py.
require '/usr/share/php/Composer/Semver/autoload.php';

use Composer\Semver\Comparator;
use Composer\Semver\VersionParser;

$parser = new VersionParser();

function normalized($parser, $text)
{
    try {
        $normalized = $parser->normalize($text);
    } catch (\Exception $e) {
        return null;
    }
    return strpos($normalized, 'dev-') === 0 ? null : $normalized;
}

$out = [];
while (($line = fgets(STDIN)) !== false) {
    $line = trim($line);
    if ($line === '') {
        continue;
    }
    [$ha, $hb] = explode(' ', $line);
    $a = normalized($parser, hex2bin(substr($ha, 1)));
    if ($a === null) {
        $out[] = 'EA';
        continue;
    }
    $b = normalized($parser, hex2bin(substr($hb, 1)));
    if ($b === null) {
        $out[] = 'EB';
        continue;
    }
    $out[] = Comparator::lessThan($a, $b) ? '-1' : (Comparator::equalTo($a, $b) ? '0' : '1');
}
echo implode("\n", $out), "\n";
