#!/usr/bin/perl
# xcheck.pl - runs Proxmox's own PVE/QemuServer/Cloudinit.pm on the cases that
# cloudinit_dump prints (stdin) and writes the files it would put on the drive
# under OUT/CASE/ (plus volume-id, or expected.err where it dies). Its PVE
# dependencies are replaced by small stand-ins written here.
# Usage: cloudinit_dump SNIPDIR | perl xcheck.pl Cloudinit.pm OUT
use strict;
use warnings;
use File::Path qw(make_path);
use URI::Escape;

my ($PM, $OUT) = @ARGV;
die "usage: xcheck.pl Cloudinit.pm OUT\n" if !defined($OUT);
our $RESOLV = {};

BEGIN {
    package PVE::Tools;
    use Exporter 'import';
    our @EXPORT_OK = qw(run_command file_set_contents);
    sub run_command { }
    sub file_set_contents { }
    sub file_get_contents {
        my ($f) = @_;
        open(my $fh, '<', $f) or die "cannot read $f: $!\n";
        local $/;
        return scalar(<$fh>);
    }
    $INC{'PVE/Tools.pm'} = 1;

    package PVE::Storage;
    sub config { return {} }
    sub parse_volname { return ('snippets') }
    sub abs_filesystem_path { return $_[1] }
    $INC{'PVE/Storage.pm'} = 1;

    package PVE::QemuServer::Drive;
    use Exporter 'import';
    our @EXPORT_OK = qw(checked_volume_format);
    sub checked_volume_format { return 'raw' }
    $INC{'PVE/QemuServer/Drive.pm'} = 1;

    package PVE::QemuServer::Helpers;
    sub windows_version {
        my ($o) = @_;
        return 0 if !$o;
        return 5 if $o =~ /^(?:wxp|w2k3|w2k)$/;
        return 6 if $o =~ /^(?:w2k8|wvista)$/;
        return $1 if $o =~ /^win(\d+)$/;
        return 0;
    }
    $INC{'PVE/QemuServer/Helpers.pm'} = 1;

    package PVE::QemuServer::Network;
    sub parse_net {
        my ($s) = @_;
        my ($mac) = $s =~ /^virtio=([^,]*)/;
        my ($mtu) = $s =~ /,mtu=(\d+)/;
        return { macaddr => ($mac eq '-' ? undef : $mac), (defined($mtu) ? (mtu => $mtu) : ()) };
    }
    # The checks of parse_ipconfig, as documented by Proxmox.
    sub parse_ipconfig {
        my ($data) = @_;
        my $res = {};
        for my $kv (split(/,/, $data)) {
            my ($k, $v) = split(/=/, $kv, 2);
            $res->{$k} = $v if defined($v);
        }
        return if $res->{gw} && !$res->{ip};
        return if $res->{gw6} && !$res->{ip6};
        return if $res->{gw} && $res->{ip} eq 'dhcp';
        return if $res->{gw6} && $res->{ip6} !~ /^[0-9a-fA-F]*:[0-9a-fA-F:.]*/;
        return { ip => 'dhcp', ip6 => 'dhcp' } if !$res->{ip} && !$res->{ip6};
        return $res;
    }
    $INC{'PVE/QemuServer/Network.pm'} = 1;

    package PVE::INotify;
    sub read_file { return $main::RESOLV }

    package PVE::Network;
    our $ipv4_reverse_mask = [
        map { join('.', unpack('C4', pack('N', $_ ? (0xffffffff << (32 - $_)) & 0xffffffff : 0))) }
            0 .. 32
    ];

    package PVE::JSONSchema;
    sub parse_property_string {
        my (undef, $s) = @_;
        return { map { split(/=/, $_, 2) } split(/,/, $s) };
    }
}

require $PM;
our $FILES;
{
    no warnings qw(redefine once);
    *PVE::QemuServer::Cloudinit::commit_cloudinit_disk = sub {
        my (undef, undef, undef, undef, undef, $files, $label) = @_;
        $FILES = { %$files, '/volume-id' => "$label\n" };
    };
}

sub unescape {
    my ($s) = @_;
    $s =~ s/\\(n|t|\\)/$1 eq 'n' ? "\n" : $1 eq 't' ? "\t" : "\\"/ge;
    return $s;
}

sub generate {
    my ($case, $conf, $vmid) = @_;
    my $format = PVE::QemuServer::Cloudinit::get_cloudinit_format($conf);
    my $gen = {
        nocloud => \&PVE::QemuServer::Cloudinit::generate_nocloud,
        configdrive2 => \&PVE::QemuServer::Cloudinit::generate_configdrive2,
        opennebula => \&PVE::QemuServer::Cloudinit::generate_opennebula,
    }->{$format};
    $FILES = undef;
    eval { $gen->($conf, $vmid, {}, "vm-$vmid-cloudinit", 'local') };
    $FILES = { '/expected.err' => $@ } if $@;
    for my $p (keys %$FILES) {
        my $path = "$OUT/$case$p";
        (my $dir = $path) =~ s@/[^/]+$@@;
        make_path($dir);
        open(my $fh, '>', $path) or die "cannot write $path: $!\n";
        print $fh $FILES->{$p};
        close($fh);
    }
}

my ($case, $conf, $vmid, $custom);
while (my $line = <STDIN>) {
    chomp $line;
    my ($k, @v) = split(/\t/, $line, -1);
    if ($k eq 'case') {
        ($case, $conf, $custom, $RESOLV) = ($v[0], {}, {}, {});
    } elsif ($k eq 'vmid') {
        $vmid = $v[0];
    } elsif ($k eq 'host_search') {
        $RESOLV->{search} = $v[0];
    } elsif ($k =~ /^dns\d$/) {
        $RESOLV->{$k} = $v[0];
    } elsif ($k eq 'sshkeys') {
        $conf->{sshkeys} = uri_escape(unescape($v[0])); # as Proxmox stores them
    } elsif ($k =~ /^custom_(\w+)$/) {
        $custom->{$1} = $v[0];
    } elsif ($k eq 'net') {
        my ($i, $mac, $ip, $gw, $ip6, $gw6, $mtu) = @v;
        $conf->{"net$i"} = "virtio=$mac,bridge=vmbr0" . ($mtu ne '-' ? ",mtu=$mtu" : '');
        my @p;
        push @p, "ip=$ip" if $ip ne '-';
        push @p, "gw=$gw" if $gw ne '-';
        push @p, "ip6=$ip6" if $ip6 ne '-';
        push @p, "gw6=$gw6" if $gw6 ne '-';
        # An ipconfig with neither ip nor ip6 (a key Proxmox still sees as set).
        $conf->{"ipconfig$i"} = @p ? join(',', @p) : 'x';
    } elsif ($k eq 'end') {
        $conf->{cicustom} = join(',', map { "$_=$custom->{$_}" } sort keys %$custom)
            if %$custom;
        generate($case, $conf, $vmid);
    } else {
        $conf->{$k} = unescape($v[0]);
    }
}
