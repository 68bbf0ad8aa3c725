"""TLS helper for the serve tests.

  tls_check.py make DIR            writes DIR/cert.pem and DIR/key.pem (self-signed, localhost)
  tls_check.py get URL CERT        GET URL trusting only CERT; prints status and body
"""

import datetime
import ssl
import sys
import urllib.request

if sys.argv[1] == "make":
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    out = sys.argv[2]
    open(f"{out}/cert.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
    open(f"{out}/key.pem", "wb").write(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
else:
    context = ssl.create_default_context(cafile=sys.argv[3])
    with urllib.request.urlopen(sys.argv[2], context=context, timeout=30) as response:
        print(response.status)
        print(response.read().decode())
