"""Device settings and SSCCs: site GS1 identity, serial allocation, devices, printers.

Services take the session first and never commit. SSCC serial references come from one
`UPDATE ... RETURNING` on the site's row: the row lock (PostgreSQL) or the write lock
(SQLite, BEGIN IMMEDIATE) queues concurrent allocations, and `dev_sscc.sscc` is unique, so a
serial is never issued twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from isom.auth import services as auth_service
from isom.auth.models import Role
from isom.devices import gs1
from isom.devices.models import Device, DeviceKind, Gs1Site, Printer, Sscc
from isom.devices.schemas import (
    DeviceIn,
    DeviceOut,
    Gs1SiteIn,
    Gs1SiteOut,
    PrinterIn,
    PrinterOut,
    SsccOut,
    SsccReceive,
)
from isom.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from isom.ledger import services as ledger
from isom.ledger.schemas import EventResult
from isom.masterdata import services as md
from isom.masterdata.models import Location, LocationKind, Workstation
from isom.types import utcnow

DIGITAL_LINK = "https://id.gs1.org"


# ---------------------------------------------------------------------------------------------
# GS1 identity of a site, and SSCCs.


def _site(session: Session, code: str, *, field: str = "site") -> Location:
    loc = md.get_location(session, code, field=field)
    if loc.kind != LocationKind.site:
        raise InvalidInput(
            f"{code!r} is a {loc.kind.value}, not a site", field=field, expected="a site code"
        )
    return loc


def _serial_digits(company_prefix: str) -> int:
    return 16 - len(company_prefix)


def _gs1_out(session: Session, row: Gs1Site) -> Gs1SiteOut:
    site = session.get(Location, row.site_id)
    assert site is not None
    return Gs1SiteOut(
        site=site.code,
        company_prefix=row.company_prefix,
        extension_digit=row.extension_digit,
        gln=row.gln,
        last_serial=row.last_serial,
        serials_left=10 ** _serial_digits(row.company_prefix) - 1 - row.last_serial,
    )


def set_gs1_site(session: Session, data: Gs1SiteIn) -> Gs1SiteOut:
    """Set a site's company prefix, extension digit and GLN; the serial counter is kept."""
    site = _site(session, data.site)
    if data.gln is not None and not gs1.is_valid_key(data.gln):
        raise InvalidInput(
            f"GLN {data.gln} has a wrong check digit",
            field="gln",
            expected=f"{data.gln[:12]}{gs1.check_digit(data.gln[:12])}",
        )
    row = session.scalar(select(Gs1Site).where(Gs1Site.site_id == site.id).with_for_update())
    if row is None:
        row = Gs1Site(site_id=site.id, last_serial=0)
        session.add(row)
    elif row.company_prefix != data.company_prefix and row.last_serial > 0:
        raise Conflict(
            f"site {site.code} already issued SSCCs under prefix {row.company_prefix}",
            field="company_prefix",
            expected="the same prefix (a new prefix would restart serials and could reuse one)",
        )
    row.company_prefix = data.company_prefix
    row.extension_digit = data.extension_digit
    row.gln = data.gln
    session.flush()
    return _gs1_out(session, row)


def gs1_site(session: Session, site: str) -> Gs1SiteOut:
    """A site's GS1 settings, or 404 when none are set."""
    loc = _site(session, site)
    row = session.scalar(select(Gs1Site).where(Gs1Site.site_id == loc.id))
    if row is None:
        raise NotFound(
            f"site {site} has no GS1 settings",
            field="site",
            expected="a site whose company prefix is set (PUT /api/v1/devices/gs1-sites)",
        )
    return _gs1_out(session, row)


def sscc_out(sscc: str, site: str, company_prefix: str, *, replayed: bool = False) -> SsccOut:
    """An SSCC with its human-readable, Digital Link and EPC forms."""
    return SsccOut(
        sscc=sscc,
        site=site,
        hri=f"(00){sscc}",
        digital_link=f"{DIGITAL_LINK}/00/{sscc}",
        epc_uri=gs1.sscc_epc_uri(sscc, company_prefix),
        replayed=replayed,
    )


def allocate_sscc(session: Session, actor: ledger.Actor, key: str, site: str) -> SsccOut:
    """A new SSCC for `site` from its counter; the same key answers the same SSCC again."""
    loc = _site(session, site)
    prior = session.scalar(select(Sscc).where(Sscc.key == key))
    if prior is not None:
        if prior.site_id != loc.id:
            raise Conflict(
                f"idempotency key {key!r} already allocated an SSCC for another site",
                field="Idempotency-Key",
                expected="a new key for a new SSCC",
            )
        row = session.scalar(select(Gs1Site).where(Gs1Site.site_id == loc.id))
        assert row is not None
        return sscc_out(prior.sscc, site, row.company_prefix, replayed=True)
    bumped = session.execute(
        update(Gs1Site)
        .where(Gs1Site.site_id == loc.id)
        .values(last_serial=Gs1Site.last_serial + 1)
        .returning(Gs1Site.last_serial, Gs1Site.company_prefix, Gs1Site.extension_digit)
    ).first()
    if bumped is None:
        gs1_site(session, site)  # raises the clear 404
        raise AssertionError("unreachable")
    serial, prefix, extension = bumped
    digits = _serial_digits(prefix)
    if serial >= 10**digits:
        raise Conflict(
            f"site {site} has used every serial reference of prefix {prefix}",
            field="site",
            expected="a new company prefix or extension digit",
        )
    body = f"{extension}{prefix}{serial:0{digits}d}"
    sscc = body + str(gs1.check_digit(body))
    session.add(Sscc(sscc=sscc, site_id=loc.id, issued_at=utcnow(), issued_by=actor.name, key=key))
    session.flush()
    return sscc_out(sscc, site, prefix)


def receive_labelled(
    session: Session, actor: ledger.Actor, key: str, cmd: SsccReceive
) -> EventResult:
    """Receive a container; without a code it gets a new SSCC of the location's site."""
    receive = cmd.receive
    if receive.container is None:
        loc = md.get_location(session, receive.location)
        site = session.get(Location, loc.site_id or loc.id)
        assert site is not None
        sscc = allocate_sscc(session, actor, f"{key}:sscc", site.code)
        receive = receive.model_copy(update={"container": sscc.sscc})
    return ledger.receive(session, actor, key, receive)


# ---------------------------------------------------------------------------------------------
# Devices and printers.


def _device_out(session: Session, dev: Device, token: str | None = None) -> DeviceOut:
    site = session.get(Location, dev.site_id)
    ws = session.get(Workstation, dev.workstation_id) if dev.workstation_id else None
    loc = session.get(Location, dev.location_id) if dev.location_id else None
    return DeviceOut(
        code=dev.code,
        kind=dev.kind.value,
        site=site.code if site else "",
        workstation=ws.code if ws else None,
        location=loc.code if loc else None,
        silent_after_minutes=dev.silent_after_minutes,
        last_seen_at=dev.last_seen_at,
        silent=is_silent(dev, utcnow()),
        active=dev.active,
        token=token,
    )


def is_silent(dev: Device, now: dt.datetime) -> bool:
    """A controller that has sent nothing for its `silent_after_minutes` is flagged."""
    if dev.kind != DeviceKind.controller or not dev.active:
        return False
    if dev.last_seen_at is None:
        return True
    return now - dev.last_seen_at > dt.timedelta(minutes=dev.silent_after_minutes)


def register_device(session: Session, data: DeviceIn) -> DeviceOut:
    """Register a device and issue its API token (device role), returned once in clear."""
    if session.scalar(select(Device.id).where(Device.code == data.code)) is not None:
        raise AlreadyExists(f"device {data.code!r} already exists", field="code")
    site = _site(session, data.site)
    ws = (
        md.find_by_code(
            session, Workstation, data.workstation, field="workstation", what="workstation"
        )
        if data.workstation
        else None
    )
    loc = md.get_location(session, data.location) if data.location else None
    if loc is not None and (loc.site_id or loc.id) != site.id:
        raise InvalidInput(
            f"location {loc.code} is not in site {site.code}",
            field="location",
            expected="a location of the device's site",
        )
    if data.kind == DeviceKind.controller and ws is None:
        raise InvalidInput(
            "a machine controller needs its workstation",
            field="workstation",
            expected="the code of the workstation it controls",
        )
    secret, token = auth_service.create_api_token(
        session, name=f"device:{data.code}", roles=[Role.device.value]
    )
    dev = Device(
        code=data.code,
        kind=data.kind,
        site_id=site.id,
        token_id=token.id,
        workstation_id=ws.id if ws else None,
        location_id=loc.id if loc else (ws.location_id if ws else None),
        silent_after_minutes=data.silent_after_minutes,
        active=True,
    )
    session.add(dev)
    session.flush()
    return _device_out(session, dev, secret)


def get_device(session: Session, code: str, *, field: str = "device") -> Device:
    """The device with this code, or 404."""
    dev = session.scalar(select(Device).where(Device.code == code))
    if dev is None:
        raise NotFound(f"no device {code!r}", field=field, expected="a registered device code")
    return dev


def list_devices(session: Session, *, silent_only: bool = False) -> list[DeviceOut]:
    """Every device with its last message time; `silent_only` keeps the flagged controllers."""
    out = [_device_out(session, d) for d in session.scalars(select(Device).order_by(Device.code))]
    return [d for d in out if d.silent] if silent_only else out


def set_printer(session: Session, data: PrinterIn) -> PrinterOut:
    """Add or change a printer."""
    if data.kind.value == "zpl" and not data.host:
        raise InvalidInput(
            "a ZPL printer needs its host", field="host", expected="the printer's IP or name"
        )
    site = _site(session, data.site) if data.site else None
    row = session.scalar(select(Printer).where(Printer.code == data.code))
    if row is None:
        row = Printer(code=data.code)
        session.add(row)
    row.kind = data.kind
    row.host = data.host
    row.port = data.port
    row.label_size = data.label_size
    row.dpi = data.dpi
    row.site_id = site.id if site else None
    row.active = True
    session.flush()
    return printer_out(row)


def printer_out(row: Printer) -> PrinterOut:
    return PrinterOut(
        code=row.code,
        kind=row.kind.value,
        host=row.host,
        port=row.port,
        label_size=row.label_size,
        dpi=row.dpi,
    )


def get_printer(session: Session, code: str) -> Printer:
    """The active printer with this code, or 404."""
    row = session.scalar(select(Printer).where(Printer.code == code, Printer.active))
    if row is None:
        raise NotFound(f"no printer {code!r}", field="printer", expected="a configured printer")
    return row


def rotate_token(session: Session, code: str) -> str:
    """Revoke a device's token and issue a new one (returned once in clear)."""
    dev = get_device(session, code)
    if dev.token_id is not None:
        auth_service.revoke_api_token(session, dev.token_id)
    stamp = utcnow().strftime("%Y%m%d%H%M%S%f")
    secret, token = auth_service.create_api_token(
        session, name=f"device:{dev.code}:{stamp}", roles=[Role.device.value]
    )
    dev.token_id = token.id
    session.flush()
    return secret
