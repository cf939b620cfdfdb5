"""A producer sandbox writes to a volume and is deleted; a consumer sandbox reads the data."""

from strata import CreateSandboxParams, Strata, VolumeMount

strata = Strata()
volume = strata.volume.get("shared-data", create=True)
mount_dir = "/home/sandbox/volume"

producer = strata.create(CreateSandboxParams(volumes=[VolumeMount(volume_id=volume.id, mount_path=mount_dir)]))
try:
    producer.fs.upload_file(b"shared payload", f"{mount_dir}/payload.bin")
finally:
    producer.delete()

# `with` deletes the sandbox when the block ends, failing or not.
with strata.create(CreateSandboxParams(volumes=[VolumeMount(volume_id=volume.id, mount_path=mount_dir)])) as consumer:
    data = consumer.fs.download_file(f"{mount_dir}/payload.bin")
    print(data.decode())
    assert data == b"shared payload"
