# Independent reference implementation of feature.Bucket (XXH64, seed 0, mod 100000),
# written from the xxHash spec without the Go library, to check the golden
# vectors across languages: python3 bucket_reference.py buckets.golden
import struct,sys
M=2**64-1
P1=11400714785074694791;P2=14029467366897019727;P3=1609587929392839161;P4=9650029242287828579;P5=2870177450012600261
rol=lambda x,r:((x<<r)|(x>>(64-r)))&M
def rnd(a,i): a=(a+i*P2)&M; a=rol(a,31); return (a*P1)&M
def merge(a,v): a^=rnd(0,v); return (a*P1+P4)&M
def xxh64(b,seed=0):
    n=len(b);i=0
    if n>=32:
        v1=(seed+P1+P2)&M;v2=(seed+P2)&M;v3=seed;v4=(seed-P1)&M
        while i+32<=n:
            v1=rnd(v1,struct.unpack_from('<Q',b,i)[0]);v2=rnd(v2,struct.unpack_from('<Q',b,i+8)[0]);v3=rnd(v3,struct.unpack_from('<Q',b,i+16)[0]);v4=rnd(v4,struct.unpack_from('<Q',b,i+24)[0]);i+=32
        h=(rol(v1,1)+rol(v2,7)+rol(v3,12)+rol(v4,18))&M
        for v in (v1,v2,v3,v4): h=merge(h,v)
    else: h=(seed+P5)&M
    h=(h+n)&M
    while i+8<=n:
        h^=rnd(0,struct.unpack_from('<Q',b,i)[0]); h=(rol(h,27)*P1+P4)&M; i+=8
    if i+4<=n:
        h^=(struct.unpack_from('<I',b,i)[0]*P1)&M; h=(rol(h,23)*P2+P3)&M; i+=4
    while i<n:
        h^=(b[i]*P5)&M; h=(rol(h,11)*P1)&M; i+=1
    h^=h>>33;h=(h*P2)&M;h^=h>>29;h=(h*P3)&M;h^=h>>32
    return h
bad=0;n=0
for line in open(sys.argv[1],encoding='utf-8'):
    if line.startswith('#') or not line.strip(): continue
    f,s,k,want=line.rstrip('\n').split('\t')
    got=xxh64((f+'.'+s+'.'+k).encode())%100000
    n+=1
    if got!=int(want): bad+=1; print('MISMATCH',f,s,k,got,want)
print(n,'vectors,',bad,'mismatches')
